/* Quantization-aware training on a qb_net: attach fake-quant to every dense and
 * convolution layer (weights per-channel symmetric, inputs per-tensor affine with a
 * moving-average min-max observer, see qb_fakequant.h), calibrate the observers,
 * fine-tune with the straight-through estimator, export QDQ ONNX.
 *
 * The fp32 starting point is an ONNX file written by qbench train: its initializers
 * are loaded back by parameter name (same names, same layouts). Models whose export
 * rewrites parameters (dwnet: BN folded; vit: weights transposed for MatMul) are
 * not loadable this way and are refused with a message saying so. */
#ifndef QB_QAT_H
#define QB_QAT_H

#include <stddef.h>

#include "qb_error.h"
#include "qb_net.h"

/* Reads `path`, builds the reference model named by its qbench.model metadata for
 * batches up to max_batch, and loads every parameter from the initializers. */
qb_net* qb_net_load_onnx(const char* path, size_t max_batch, qb_error* err);

/* Fake-quant on the weights (wbits) and inputs (abits) of every dense / conv layer. */
int qb_qat_attach(qb_net* net, int wbits, int abits, qb_error* err);
/* Runs n samples through the observers (no weight update): static PTQ calibration. */
int qb_qat_calibrate(qb_net* net, const float* x, size_t n, qb_error* err);

#endif /* QB_QAT_H */
