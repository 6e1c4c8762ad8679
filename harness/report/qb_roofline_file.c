#include "qb_roofline_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_json_scan.h"

void qb_roofline_peaks(const char* json, double* int8_gops, double* dram_gbs) {
  *int8_gops = *dram_gbs = NAN;
  if (!json) return;
  const char* e = strstr(json, "\"entries\"");
  if (!e) return;
  const size_t len = strlen(json);
  size_t pos = (size_t)(e - json), start, end;
  while (qb_json_next_object(json, len, &pos, &start, &end)) {
    char name[32] = "", kind[8] = "";
    double t1;
    qb_json_scan_string(json + start, end - start, "name", name, sizeof name);
    qb_json_scan_string(json + start, end - start, "kind", kind, sizeof kind);
    if (!qb_json_scan_number(json + start, end - start, "t1", &t1) || !(t1 > 0)) continue;
    if (!strcmp(kind, "int8") && !(t1 <= *int8_gops)) *int8_gops = t1;
    if (!strcmp(name, "read_dram")) *dram_gbs = t1;
  }
}

char* qb_run_roofline_json(const qb_run_data* run) {
  char path[1200];
  if (strncmp(run->source, "db:", 3)) {
    snprintf(path, sizeof path, "%s/roofline.json", run->source);
    char* t = qb_read_text_file(path, NULL);
    if (t) return t;
  }
  if (!strcmp(run->fingerprint, "unknown")) return NULL;
  const char* base = getenv("XDG_CACHE_HOME");
  const char* home = getenv("HOME");
  if (base && base[0] == '/')
    snprintf(path, sizeof path, "%s/qbench/roofline-%s.json", base, run->fingerprint);
  else if (home && home[0] == '/')
    snprintf(path, sizeof path, "%s/.cache/qbench/roofline-%s.json", home, run->fingerprint);
  else
    return NULL;
  return qb_read_text_file(path, NULL);
}
