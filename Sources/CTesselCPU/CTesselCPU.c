// SwiftPM needs one source file per C target; the functions live in the header (static inline).
#include "CTesselCPU.h"
