/* Verifying a mixed-precision plan (qbench recommend --verify): the plan of
 * qb_recommend run end to end on the run's model, data and backend, with the run's
 * evaluation limit and calibration count (read from run.json's config_text), on the
 * integer path as the sweep measures accuracy. The measured top-1 drop from fp32 (same
 * samples, same process) replaces the predicted one. If it exceeds the budget, the most
 * sensitive layer still quantized goes to float and the plan is run again, for at most
 * max_rounds rounds (the layers moved are marked `fallback`). */
#ifndef QB_RECOMMEND_VERIFY_H
#define QB_RECOMMEND_VERIFY_H

#include <stdio.h>

#include "qb_recommend.h"

typedef struct {
  const char* fmnist_dir; /* NULL: QB_FASHION_MNIST */
  int max_rounds;         /* fallback rounds (e.g. 3) */
  FILE* log;              /* progress lines, or NULL */
} qb_verify_options;

/* r: a recommendation with a plan (r->nlayers > 0). Fills r->verified and the measured
 * fields, may move layers to float. Errors name the run and what is missing. */
int qb_recommend_verify(const qb_run_data* run, const qb_run_index* idx, const qb_recommend_query* q,
                        const qb_verify_options* opt, qb_recommendation* r, qb_error* err);

/* The run's config entry of model `model` as a YAML flow mapping with absolute
 * paths ("{name: mlp}" for a reference model; "{path: /abs/m.onnx, name: m, task:
 * ocr-rec, data: generated, dictionary: /abs/keys.txt}"), for a sweep config written
 * elsewhere. -1 when the run has no config (a history id) or not that model. */
int qb_recommend_model_entry(const qb_run_data* run, const char* model, char* out, size_t size,
                             qb_error* err);

/* "model FILE; task T (metric); data D; calibration C; preprocessing P" of a model
 * of the run (qb_sweep_model_describe of its config entry); -1 without run.json. */
int qb_run_model_describe(const qb_run_data* run, const char* model, char* out, size_t size,
                          qb_error* err);

#endif
