#include "qb_peak_rss.h"

#include <stdio.h>
#include <string.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

bool qb_peak_rss_reset(void) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  FILE* f = fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  /* "5": reset the peak resident set size ("hiwater RSS") to the current one. */
  const bool wrote = fputs("5", f) >= 0;
  return (fclose(f) == 0) && wrote;
}

bool qb_peak_rss_read(size_t* bytes) {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return false;
  char line[256];
  bool found = false;
  unsigned long kib = 0;
  while (!found && fgets(line, sizeof line, f))
    found = sscanf(line, "VmHWM: %lu kB", &kib) == 1;
  fclose(f);
  if (found) *bytes = (size_t)kib * 1024;
  return found;
}
