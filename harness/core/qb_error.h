/* Error reporting for the harness: functions that can fail return 0 on success or
 * -1 and fill a qb_error with one readable sentence. Messages name the thing that
 * was wrong (file, line:column, key, value) and what was expected. */
#ifndef QB_ERROR_H
#define QB_ERROR_H

#include <stddef.h>

typedef struct {
  char msg[1024];
} qb_error;

/* printf-style; always returns -1 so callers can `return qb_fail(err, ...)`. */
int qb_fail(qb_error* err, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
