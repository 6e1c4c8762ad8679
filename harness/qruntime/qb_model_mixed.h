/* Mixed-precision runs: every quantized layer with its OWN weight spec (bits, scheme,
 * granularity, range) or kept in float, activations and workflow shared. This is what
 * `qbench recommend --verify` runs to measure a mixed-precision plan end to end.
 *
 * How: one quantization state per distinct qconfig (qb_quant_create quantizes and packs
 * every layer's weights under that qconfig); the first is the BASE, the one that runs.
 * qb_mixed_apply swaps each chosen layer's quantized weights in from the state of its
 * qconfig (the whole per-layer record: packed weights, scales, kernel path, integer
 * bias and requantization constants) and masks float layers; qb_mixed_restore swaps
 * them back. The run itself only reads the activation spec and workflow from the
 * state, which the qconfigs share, so a layer runs exactly as it would in a plain run
 * of its own qconfig with the same activation qparams:
 *   - all layers at qconfig 0          == the plain qconfig-0 run, bit for bit;
 *   - all layers float                 == the fp32 model, bit for bit;
 *   - static workflow: the base's calibrated activation qparams are installed in every
 *     other state (qb_mixed_share_calibration), so every layer's integer constants
 *     (bias_q = round(b / (sx sw)), requant sx sw / sy) use the same sx, sy.
 * Results are bit-identical to a single-qconfig run with one thread (the states keep
 * the default single-thread packing). */
#ifndef QB_MODEL_MIXED_H
#define QB_MODEL_MIXED_H

#include <stddef.h>

#include "qb_dataset.h"
#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_quant.h"

/* Per-node choice: QB_MIXED_FLOAT keeps the node in fp32, i >= 0 takes cfgs[i]'s weights;
 * ignored for nodes that are not quantized layers. */
#define QB_MIXED_FLOAT (-1)

typedef struct qb_mixed qb_mixed;

/* States for cfgs[0..ncfgs) on `backend` (QB_BACKEND_COUNT = best exact). Every qconfig
 * must have cfgs[0]'s activation spec and workflow (error otherwise). m prepared. */
int qb_mixed_create(const qb_model* m, const qb_qconfig* cfgs, size_t ncfgs, qb_backend backend,
                    qb_mixed** out, qb_error* err);
void qb_mixed_free(qb_mixed* x);

/* The state that runs (qconfig 0's). Static workflow: calibrate it (qb_model_calibrate),
 * then qb_mixed_share_calibration before any mixed run. */
qb_quant_state* qb_mixed_base(qb_mixed* x);
int qb_mixed_share_calibration(qb_mixed* x, qb_error* err);

/* choice: m->nnodes entries. Between apply and restore, exec {mode, qb_mixed_base(x)}
 * runs the mixed configuration. */
int qb_mixed_apply(qb_mixed* x, const int* choice, qb_error* err);
void qb_mixed_restore(qb_mixed* x);

/* Node k under choice[k] (kernel, packed weight bytes at its qconfig's bit width);
 * quantized = false for a float layer. Call outside apply / restore. */
void qb_mixed_layer(const qb_mixed* x, const int* choice, size_t k, qb_quant_layer_info* info);

/* apply + qb_model_evaluate(mode) + restore. */
int qb_mixed_evaluate(qb_mixed* x, qb_model* m, const int* choice, qb_exec_mode mode,
                      const qb_dataset* d, size_t limit, size_t batch, qb_eval_result* out,
                      qb_error* err);

#endif
