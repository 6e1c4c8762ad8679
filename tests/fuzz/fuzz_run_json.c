/* run.json of a run folder: qb_run_data_load of a folder whose run.json holds the
 * fuzzer's bytes (results.csv empty), then the sweep config recorded in it, as
 * `recommend --verify` reads it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "qb_fuzz_file.h"
#include "qb_run_data.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qb_fuzz_write("results.csv", data, 0);
  qb_fuzz_write("run.json", data, size);
  qb_run_data run;
  qb_error err;
  qb_run_data_load(qb_fuzz_dir(), NULL, &run, &err);
  qb_run_data_free(&run);
  return 0;
}
