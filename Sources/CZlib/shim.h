// zlib (Debian's zlib1g-dev): gzip decompression of IDX files, which Foundation on Linux lacks.
#include <zlib.h>
