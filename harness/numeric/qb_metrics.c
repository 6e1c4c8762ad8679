#include "qb_metrics.h"
