/* The fine-tuned models of a sweep's qat items, cached on disk.
 *
 * A qat item (model, weights, activations) is quantized as static from a model
 * fine-tuned with fake quantization on the item's own grid (qb_qat_finetune): the
 * reference model's fp32 ONNX, the item's qconfig (backend aside: the training does
 * not depend on it), cfg->qat_epochs epochs over the first cfg->qat_limit training
 * images, SGD 0.005 with cosine decay, observers calibrated on the first
 * cfg->calibration images of the calibration split (as the runtime calibrates the
 * result) and then frozen, cfg->seed for the shuffling. Single-threaded and seeded: the same key trains the
 * same weights.
 *
 * Cache: <cfg->output>/cache/qat/<model>-<16 hex>.onnx (the fine-tuned fp32 model)
 * and .json beside it (the key in words, the training time), where the hex is the
 * FNV-1a hash of the key: the model file's bytes, the qconfig text, epochs, images,
 * calibration images, seed and the recipe version. Written to a temporary name and renamed, so an
 * interrupted sweep never leaves half a model; every backend, resumed run and later
 * sweep with the same key reuses it. */
#ifndef QB_SWEEP_QAT_H
#define QB_SWEEP_QAT_H

#include <stddef.h>
#include <stdio.h>

#include "qb_error.h"
#include "qb_sweep_config.h"
#include "qb_sweep_plan.h"

/* The fine-tuned model's path for `item` (a qat item) into path: from the cache, or
 * trained now (a line to log, when not NULL). fmnist_dir NULL: QB_FASHION_MNIST. */
int qb_sweep_qat_model(const qb_sweep_config* cfg, const qb_plan_item* item,
                       const char* fmnist_dir, FILE* log, char* path, size_t size, qb_error* err);

#endif
