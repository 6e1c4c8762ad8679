/* Writing JSON by hand: the one string escaper every writer uses (results.json,
 * compare --json, the CLI's --json outputs, qat cache sidecars). */
#ifndef QB_JSON_H
#define QB_JSON_H

#include <stdio.h>

/* s as a JSON string: quotes, with '"', '\\' and control characters escaped; NULL
 * is written as "". */
void qb_json_string(FILE* f, const char* s);

#endif
