/* STUB: being written. */
#include "qb_range.h"
