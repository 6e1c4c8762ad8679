#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_cli.h"

int qb_cli_usage_error(const char* cmd, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "qbench %s: error: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return QB_EXIT_USAGE;
}

size_t qb_cli_split_list(char* text, char** items, size_t max) {
  size_t n = 0;
  for (char* save = NULL, *tok = strtok_r(text, ",", &save); tok && n < max;
       tok = strtok_r(NULL, ",", &save))
    items[n++] = tok;
  return n;
}

bool qb_cli_parse_long(const char* text, long lo, long hi, long* out) {
  if (!text || !*text) return false;
  errno = 0;
  char* end;
  const long v = strtol(text, &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

void qb_json_number(FILE* f, double v) {
  if (isfinite(v)) fprintf(f, "%.10g", v);
  else fputs("null", f);
}

