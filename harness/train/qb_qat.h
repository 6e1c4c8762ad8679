/* Quantization-aware training on a qb_net: attach fake-quant to every dense and
 * convolution layer (weights on the qconfig's deployment grid; inputs and outputs per
 * tensor with the qconfig's activation scheme and an observer of its activation range
 * strategy, minmax or movavg, see qb_fakequant.h), calibrate the observers, freeze
 * them, fine-tune with the straight-through estimator, export QDQ or fp32 ONNX.
 *
 * Why frozen: the calibration runs the calibration split in batches of
 * QB_QAT_CALIB_BATCH through the observers, exactly as the runtime's static
 * calibration with that range strategy does (qbench eval, the sweep), so the network
 * trains on the activation grid it will be deployed with. Observers that keep
 * moving train on ranges the deployment never uses (measured on mlp w4/a4, 1 epoch on
 * 20,000 images: 12 % of the PTQ drop recovered moving, 27 % frozen; cnn 49 / 57 %).
 *
 * The fp32 starting point is an ONNX file written by qbench train: its initializers
 * are loaded back by parameter name (same names, same layouts). Models whose export
 * rewrites parameters (dwnet: BN folded; vit: weights transposed for MatMul) are
 * not loadable this way and are refused with a message saying so. */
#ifndef QB_QAT_H
#define QB_QAT_H

#include <stddef.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qb_error.h"
#include "qb_net.h"
#include "qb_qconfig.h"
#include "qb_trainer.h"

/* Reads `path`, builds the reference model named by its qbench.model metadata for
 * batches up to max_batch, and loads every parameter from the initializers. */
qb_net* qb_net_load_onnx(const char* path, size_t max_batch, qb_error* err);

/* Can qb_net_load_onnx fine-tune this reference model? (mlp and cnn: their export
 * keeps every parameter as trained.) */
bool qb_qat_model_supported(const char* reference_name);

/* Fake-quant on the weights (qc->weight) and inputs (qc->act.scheme, per tensor) of
 * every dense / conv layer. The workflow must be static (weights and activations
 * quantized), activations per tensor with range minmax or movavg. */
int qb_qat_attach(qb_net* net, const qb_qconfig* qc, qb_error* err);
/* The runtime's calibration batch (QB_SWEEP_BATCH, qbench eval --batch default). */
#define QB_QAT_CALIB_BATCH 100

/* Runs n samples through the observers in batches of QB_QAT_CALIB_BATCH (no weight
 * update), then freezes them: static PTQ calibration. */
int qb_qat_calibrate(qb_net* net, const float* x, size_t n, qb_error* err);

typedef struct {
  qb_qconfig qc;  /* the grid fine-tuned for (static; activations per tensor) */
  int epochs;
  float lr;       /* peak; cosine decay to 0, SGD with momentum 0.9, batch 128 */
  size_t calib;   /* calibration images that initialize the activation observers */
  uint64_t seed;  /* shuffling */
} qb_qat_recipe;

/* QAT from the net's current (fp32) weights: attach fake-quant for r->qc, calibrate
 * on the calibration split, fine-tune on d's training images. ptq_accuracy (may be
 * NULL) gets the test accuracy after calibration, before any step (needs d->ntest). */
int qb_qat_finetune(qb_net* net, const qb_train_data* d, const qb_qat_recipe* r,
                    float* ptq_accuracy, qb_train_result* out, FILE* progress, qb_error* err);

#endif /* QB_QAT_H */
