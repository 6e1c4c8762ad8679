/* ONNX import + prepare: qb_model_parse_onnx on the fuzzer's bytes, then shape
 * inference and arena planning for batch 1, and one fp32 run on zero inputs when the
 * model prepared (the prepare limits bound the work of a run). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "qb_model.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qb_model m;
  qb_error err;
  if (qb_model_parse_onnx(data, size, "fuzz.onnx", &m, &err)) return 0;
  if (qb_model_prepare(&m, 1, &err) == 0) {
    const float* inputs[64] = {0};
    float* zeros = NULL;
    size_t most = 0;
    for (size_t i = 0; i < m.ninputs; i++)
      if (m.values[m.inputs[i]].numel > most) most = m.values[m.inputs[i]].numel;
    if (m.ninputs <= 64 && most <= ((size_t)1 << 20)) {
      zeros = calloc(most ? most : 1, sizeof *zeros);
      for (size_t i = 0; zeros && i < m.ninputs; i++) inputs[i] = zeros;
      if (zeros) qb_model_run_f32(&m, inputs, NULL, NULL, &err);
    }
    free(zeros);
  }
  qb_model_free(&m);
  return 0;
}
