/* YAML sweep config: qb_sweep_config_parse on the fuzzer's bytes. */
#include <stddef.h>
#include <stdint.h>

#include "qb_sweep_config.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qb_sweep_config cfg;
  qb_error err;
  if (qb_sweep_config_parse((const char*)data, size, "/tmp/fuzz.yaml", &cfg, &err) == 0)
    qb_sweep_config_free(&cfg);
  return 0;
}
