/* STUB: being written. */
#include "qb_onnx.h"
