/* Small ONNX models built in a test, for the model runtime's tests: random
 * initializers, save-and-load through a temporary file, and the two-layer MLP most of
 * them use. Linked into tests/unit only (the harness is not in the cross build). */
#ifndef QB_TEST_MODEL_H
#define QB_TEST_MODEL_H

#include <stddef.h>

#include "qb_dataset.h"
#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_quant.h"
#include "qb_onnx_builder.h"

/* An initializer of N(0, scale^2) values from the test PRNG (qb_test.h). */
void qb_test_add_random_initializer(qb_onnx_builder* b, const char* name, int ndim,
                                    const size_t* dims, float scale);

/* Saves the model to a temporary file, frees the builder, loads it into m; 0 or -1
 * (the error printed). */
int qb_test_save_and_load(qb_onnx_builder* b, qb_model* m);

/* x[N,in] -> fc1 (Gemm transB, in->hidden) -> relu1 -> fc2 (MatMul hidden x 10)
 * -> fc2.bias_add -> logits[N,10], weights N(0, 0.3^2), biases N(0, 0.1^2). */
int qb_test_build_mlp(qb_model* m, size_t in, size_t hidden);

/* count samples of `per` values uniform in [-1, 2), labels uniform in 0..9. */
void qb_test_random_dataset(qb_dataset* d, size_t count, size_t per);

/* Every node's output of one run (nodes >= QB_TEST_MAX_NODES are not kept). */
enum { QB_TEST_MAX_NODES = 64 };
typedef struct {
  float* out[QB_TEST_MAX_NODES];
  size_t numel[QB_TEST_MAX_NODES];
} qb_test_capture;

/* Runs m on a batch of x (prepared for `batch`) in `mode`, keeping every node's
 * output in c (which qb_test_capture_free empties); 0 or -1 (the error printed). */
int qb_test_run_capture(qb_model* m, const float* x, size_t batch, qb_exec_mode mode,
                        qb_quant_state* q, qb_test_capture* c);
void qb_test_capture_free(qb_test_capture* c);

/* qconfig parsed, a state created for `backend` (QB_BACKEND_COUNT: the best) and,
 * for static, calibrated on calib in batches of 16; NULL (the error printed). */
qb_quant_state* qb_test_quantize(qb_model* m, const char* qconfig, qb_backend backend,
                                 const qb_dataset* calib);

#endif
