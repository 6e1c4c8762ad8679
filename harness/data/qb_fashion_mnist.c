#include "qb_fashion_mnist.h"
