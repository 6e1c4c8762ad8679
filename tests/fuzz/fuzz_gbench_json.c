/* gbench.json (Google Benchmark JSON in a run folder): qb_run_data_parse_gbench. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qb_run_data.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  /* The reader gets files NUL-terminated (qb_read_text_file). */
  char* text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  qb_run_data run;
  memset(&run, 0, sizeof run);
  qb_result_rows_init(&run.rows);
  qb_error err;
  qb_run_data_parse_gbench("gbench.json", text, size, &run, &err);
  qb_run_data_free(&run);
  free(text);
  return 0;
}
