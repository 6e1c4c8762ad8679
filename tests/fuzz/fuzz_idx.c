/* IDX (Fashion-MNIST) reader: the fuzzer's bytes are split into an images file and a
 * labels file (the first byte says where: images get the first size*b/256 bytes of
 * the rest), both loaded through qb_fmnist_load (gzread reads plain files as is). */
#include <stddef.h>
#include <stdint.h>

#include "qb_fashion_mnist.h"
#include "qb_fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t rest = size - 1, nimages = rest * data[0] / 256;
  qb_fuzz_write("t10k-images-idx3-ubyte.gz", data + 1, nimages);
  qb_fuzz_write("t10k-labels-idx1-ubyte.gz", data + 1 + nimages, rest - nimages);
  qb_fmnist d;
  qb_error err;
  if (qb_fmnist_load(qb_fuzz_dir(), "t10k", &d, &err) == 0) qb_fmnist_free(&d);
  return 0;
}
