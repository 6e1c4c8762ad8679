/* The training loop: Fashion-MNIST in, a trained net out.
 *
 * Data: the first 55,000 training images (the last 5,000 are the calibration split,
 * never trained on) and the 10,000 test images, as float NCHW [n, 1, 28, 28] with
 * x = (pixel / 255 - 0.2860) / 0.3530 (the qbench.preprocess metadata of every
 * reference model).
 *
 * Loop: each epoch shuffles the training order (Fisher-Yates from a splitmix64
 * stream seeded by the recipe), takes minibatches (the last, partial one too),
 * computes softmax cross-entropy, backpropagates and steps the optimizer with a
 * cosine-decayed learning rate (linear warm-up over the first `warmup_steps`).
 * Single-threaded, fixed summation order: same seed, same data -> same weights. */
#ifndef QB_TRAINER_H
#define QB_TRAINER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qb_error.h"
#include "qb_net.h"
#include "qb_optim.h"

#define QB_TRAIN_SPLIT 55000 /* training images used; the rest is the calibration split */

typedef struct {
  float* train_x;
  uint8_t* train_y;
  size_t ntrain;
  float* test_x;
  uint8_t* test_y;
  size_t ntest;
  float* calib_x; /* the calibration split: training images 55,000..59,999 */
  uint8_t* calib_y;
  size_t ncalib;
} qb_train_data;

typedef struct {
  int epochs;
  size_t batch;
  uint64_t seed;     /* initialization and shuffling */
  qb_optimizer opt;  /* kind and hyper-parameters */
  float lr;          /* peak learning rate */
  long warmup_steps;
} qb_train_recipe;

typedef struct {
  float final_loss;     /* mean training loss of the last epoch */
  float test_accuracy;  /* top-1 on the test images after the last epoch */
  double seconds;       /* wall time of the training loop (evaluation excluded) */
} qb_train_result;

/* Loads and normalizes the three splits; limit > 0 keeps only the first `limit`
 * training images (the calibration split is unaffected). */
int qb_train_data_load(qb_train_data* d, const char* dir, size_t limit, qb_error* err);
void qb_train_data_free(qb_train_data* d);
/* The normalization above, for n images of 28x28 uint8 pixels. */
void qb_fmnist_normalize(const uint8_t* pixels, size_t count, float* out);

/* Trains in place. progress (may be NULL) gets one line per epoch. */
int qb_train_run(qb_net* net, const qb_train_data* d, const qb_train_recipe* r,
                 qb_train_result* out, FILE* progress, qb_error* err);
/* Top-1 accuracy of the net in evaluation mode on n samples; -1 on failure. */
float qb_net_accuracy(qb_net* net, const float* x, const uint8_t* y, size_t n);

#endif /* QB_TRAINER_H */
