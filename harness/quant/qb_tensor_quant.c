#include "qb_tensor_quant.h"
