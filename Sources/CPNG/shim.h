// libpng (Debian's libpng-dev), through its simplified API (png_image_*): decoding the PNG
// images that `tessel predict` and the server receive.
#include <png.h>
