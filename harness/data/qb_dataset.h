/* Labelled evaluation / calibration data as float model inputs.
 *
 * Fashion-MNIST splits (fixed, documented, shared with the trainer):
 *   "train"  the first 55,000 training images (the trainer's; not used here)
 *   "calib"  the LAST 5,000 training images (indices 55,000..59,999): calibration
 *   "test"   the 10,000 t10k images: evaluation
 * Images become float32 [N, 1, 28, 28] through the model's preprocessing:
 *   x = (pixel * scale - mean) / std
 * parsed from the ONNX metadata `qbench.preprocess`
 * ("scale=0.00392156862745098;mean=0.2860;std=0.3530;layout=NCHW"); without it,
 * scale = 1/255, mean = 0, std = 1.
 *
 * User data: X.npy (float32, or float64 converted; first dimension N, the rest is
 * one model input) and Y.npy (integer labels, N values). Used as given (already
 * preprocessed). */
#ifndef QB_DATASET_H
#define QB_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"

#define QB_FMNIST_TRAIN_COUNT 55000
#define QB_FMNIST_CALIB_FIRST 55000
#define QB_FMNIST_CALIB_COUNT 5000

typedef struct {
  float scale, mean, std;
} qb_preprocess;

/* Parses "scale=..;mean=..;std=..;layout=NCHW" (any order; unknown keys and
 * layouts other than NCHW are errors). NULL or "" gives the defaults. */
int qb_preprocess_parse(const char* text, qb_preprocess* out, qb_error* err);

typedef struct {
  size_t count;
  size_t sample_numel;   /* floats per sample */
  int ndim;              /* of one sample */
  size_t dims[8];
  float* x;              /* count x sample_numel */
  int32_t* labels;       /* count; -1 when unlabelled */
  size_t num_classes;    /* 1 + largest label */
} qb_dataset;

/* split: "calib" or "test"; dir: the IDX folder (QB_FASHION_MNIST by default). */
int qb_dataset_fmnist(const char* dir, const char* split, const qb_preprocess* pp, qb_dataset* out,
                      qb_error* err);
/* labels_path may be NULL (unlabelled). */
int qb_dataset_npy(const char* x_path, const char* labels_path, qb_dataset* out, qb_error* err);
void qb_dataset_free(qb_dataset* d);
/* Moves the last min(want, count / 2) samples of test into calib (its own copy), so
 * that calibration never sees an evaluated sample (.npy data without separate
 * calibration data). 0, or -1 when fewer than 2 samples or out of memory. */
int qb_dataset_split_tail(qb_dataset* test, qb_dataset* calib, size_t want, qb_error* err);

#endif
