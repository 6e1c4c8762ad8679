/* Small ONNX models built in a test, for the model runtime's tests: random
 * initializers, save-and-load through a temporary file, and the two-layer MLP most of
 * them use. Linked into tests/unit only (the harness is not in the cross build). */
#ifndef QB_TEST_MODEL_H
#define QB_TEST_MODEL_H

#include <stddef.h>

#include "qb_model.h"
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

#endif
