#include "qb_softmax_regression.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void qb_linear_forward(size_t n, size_t features, size_t classes, const float* x,
                       const float* weight, const float* bias, float* logits) {
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < classes; c++) {
      const float* xi = x + i * features;
      const float* wc = weight + c * features;
      float acc = 0.0f;
      for (size_t f = 0; f < features; f++) acc += xi[f] * wc[f];
      logits[i * classes + c] = acc + bias[c];
    }
}

static uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* softmax in place, stable around the maximum */
static void softmax(float* v, size_t n) {
  float mx = v[0];
  for (size_t i = 1; i < n; i++) mx = v[i] > mx ? v[i] : mx;
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) sum += (v[i] = expf(v[i] - mx));
  for (size_t i = 0; i < n; i++) v[i] /= sum;
}

/* One SGD step on a minibatch: the cross-entropy gradient w.r.t. the logits is
 * softmax(logits) - onehot(label); W -= lr/|B| * sum_i g_i x_i^T. */
static void sgd_step(qb_softmax_regression* m, const float* x, const uint8_t* labels,
                     const size_t* order, size_t count, float lr, float* grad_w, float* grad_b,
                     float* logits) {
  const size_t C = m->classes, F = m->features;
  memset(grad_w, 0, C * F * sizeof *grad_w);
  memset(grad_b, 0, C * sizeof *grad_b);
  for (size_t j = 0; j < count; j++) {
    const float* xi = x + order[j] * F;
    qb_linear_forward(1, F, C, xi, m->weight, m->bias, logits);
    softmax(logits, C);
    logits[labels[order[j]]] -= 1.0f;
    for (size_t c = 0; c < C; c++) {
      grad_b[c] += logits[c];
      for (size_t f = 0; f < F; f++) grad_w[c * F + f] += logits[c] * xi[f];
    }
  }
  const float step = lr / (float)count;
  for (size_t i = 0; i < C * F; i++) m->weight[i] -= step * grad_w[i];
  for (size_t c = 0; c < C; c++) m->bias[c] -= step * grad_b[c];
}

int qb_softmax_regression_train(qb_softmax_regression* m, size_t classes, size_t features,
                                const float* x, const uint8_t* labels, size_t n,
                                const qb_sgd_recipe* r) {
  m->classes = classes, m->features = features;
  m->weight = calloc(classes * features, sizeof *m->weight);
  m->bias = calloc(classes, sizeof *m->bias);
  float* grad_w = malloc(classes * features * sizeof *grad_w);
  float* grad_b = malloc(classes * sizeof *grad_b);
  float* logits = malloc(classes * sizeof *logits);
  size_t* order = malloc(n * sizeof *order);
  int rc = -1;
  if (!m->weight || !m->bias || !grad_w || !grad_b || !logits || !order) goto done;
  for (size_t i = 0; i < n; i++) order[i] = i;
  uint64_t state = r->seed;
  for (int e = 0; e < r->epochs; e++) {
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
      const size_t j = (size_t)(splitmix64(&state) % i);
      const size_t t = order[i - 1];
      order[i - 1] = order[j], order[j] = t;
    }
    for (size_t b = 0; b < n; b += r->batch) {
      const size_t count = n - b < r->batch ? n - b : r->batch;
      sgd_step(m, x, labels, order + b, count, r->learning_rate, grad_w, grad_b, logits);
    }
  }
  rc = 0;
done:
  free(grad_w), free(grad_b), free(logits), free(order);
  if (rc) qb_softmax_regression_free(m);
  return rc;
}

void qb_softmax_regression_free(qb_softmax_regression* m) {
  free(m->weight);
  free(m->bias);
  m->weight = m->bias = NULL;
}
