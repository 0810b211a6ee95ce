// SwiftPM needs one source file per C target; the function is the inline one in the header.
#include "CPrefetch.h"
