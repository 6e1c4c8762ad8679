/* results.csv of a run folder: qb_results_csv_read on the fuzzer's bytes. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qb_fuzz_file.h"
#include "qb_results_files.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qb_result_rows rows;
  qb_result_rows_init(&rows);
  bool torn = false;
  qb_error err;
  qb_results_csv_read(qb_fuzz_write("results.csv", data, size), &rows, &torn, &err);
  qb_result_rows_free(&rows);
  return 0;
}
