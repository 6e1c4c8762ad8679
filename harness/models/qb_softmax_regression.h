/* A linear softmax classifier (multinomial logistic regression) trained with
 * minibatch SGD: the smallest real trained model, used by `qbench demo` until the
 * reference models of harness/models land. logits = x W^T + b, W: classes x features. */
#ifndef QB_SOFTMAX_REGRESSION_H
#define QB_SOFTMAX_REGRESSION_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  size_t classes, features;
  float* weight; /* classes x features */
  float* bias;   /* classes */
} qb_softmax_regression;

typedef struct {
  int epochs;        /* passes over the data */
  size_t batch;      /* minibatch size */
  float learning_rate;
  uint64_t seed;     /* shuffling order; same seed -> same weights */
} qb_sgd_recipe;

/* Trains on x (n x features, float) with labels in 0..classes-1. Returns 0, or -1
 * when out of memory. Deterministic: single-threaded, fixed summation order. */
int qb_softmax_regression_train(qb_softmax_regression* model, size_t classes, size_t features,
                                const float* x, const uint8_t* labels, size_t n,
                                const qb_sgd_recipe* recipe);
void qb_softmax_regression_free(qb_softmax_regression* model);

/* logits (n x classes) = x W^T + b with the given (possibly fake-quantized) weights. */
void qb_linear_forward(size_t n, size_t features, size_t classes, const float* x,
                       const float* weight, const float* bias, float* logits);

#endif
