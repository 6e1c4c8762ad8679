/* .npy reader: qb_npy_read on a file holding the fuzzer's bytes. */
#include <stddef.h>
#include <stdint.h>

#include "qb_fuzz_file.h"
#include "qb_npy.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qb_tensor t;
  qb_error err;
  if (qb_npy_read(qb_fuzz_write("x.npy", data, size), &t, &err) == 0) qb_tensor_free(&t);
  return 0;
}
