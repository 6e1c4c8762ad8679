/* The training loop. See qb_trainer.h. */
#include "qb_trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qb_fashion_mnist.h"
#include "qb_train_ops.h"

#define FMNIST_MEAN 0.2860f
#define FMNIST_STD 0.3530f

void qb_fmnist_normalize(const uint8_t* pixels, size_t count, float* out) {
  for (size_t i = 0; i < count; i++)
    out[i] = ((float)pixels[i] * (1.0f / 255.0f) - FMNIST_MEAN) / FMNIST_STD;
}

int qb_train_data_load(qb_train_data* d, const char* dir, size_t limit, qb_error* err) {
  memset(d, 0, sizeof *d);
  qb_fmnist train, test;
  if (qb_fmnist_load(dir, "train", &train, err) != 0) return -1;
  if (qb_fmnist_load(dir, "t10k", &test, err) != 0) {
    qb_fmnist_free(&train);
    return -1;
  }
  const size_t px = train.rows * train.cols;
  size_t ntrain = train.count < QB_TRAIN_SPLIT ? train.count : QB_TRAIN_SPLIT;
  if (limit > 0 && limit < ntrain) ntrain = limit;
  d->ntrain = ntrain, d->ntest = test.count;
  d->train_x = malloc(ntrain * px * sizeof *d->train_x);
  d->train_y = malloc(ntrain);
  d->test_x = malloc(test.count * px * sizeof *d->test_x);
  d->test_y = malloc(test.count);
  d->ncalib = train.count > QB_TRAIN_SPLIT ? train.count - QB_TRAIN_SPLIT : 0;
  d->calib_x = malloc((d->ncalib * px + 1) * sizeof *d->calib_x);
  d->calib_y = malloc(d->ncalib + 1);
  int rc = 0;
  if (!d->train_x || !d->train_y || !d->test_x || !d->test_y || !d->calib_x || !d->calib_y) {
    qb_train_data_free(d);
    rc = qb_fail(err, "out of memory loading Fashion-MNIST");
  } else {
    qb_fmnist_normalize(train.pixels, ntrain * px, d->train_x);
    memcpy(d->train_y, train.labels, ntrain);
    qb_fmnist_normalize(test.pixels, test.count * px, d->test_x);
    memcpy(d->test_y, test.labels, test.count);
    if (d->ncalib) {
      qb_fmnist_normalize(train.pixels + QB_TRAIN_SPLIT * px, d->ncalib * px, d->calib_x);
      memcpy(d->calib_y, train.labels + QB_TRAIN_SPLIT, d->ncalib);
    }
  }
  qb_fmnist_free(&train);
  qb_fmnist_free(&test);
  return rc;
}

void qb_train_data_free(qb_train_data* d) {
  free(d->train_x), free(d->train_y), free(d->test_x), free(d->test_y);
  free(d->calib_x), free(d->calib_y);
  memset(d, 0, sizeof *d);
}

static uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float qb_net_accuracy(qb_net* net, const float* x, const uint8_t* y, size_t n) {
  const size_t in = net->layers[0]->in_size, classes = qb_net_output_size(net);
  size_t correct = 0;
  for (size_t b = 0; b < n; b += net->max_batch) {
    const size_t count = n - b < net->max_batch ? n - b : net->max_batch;
    const float* logits = qb_net_forward(net, count, x + b * in, 0);
    if (!logits) return -1.0f;
    for (size_t i = 0; i < count; i++) {
      size_t best = 0;
      for (size_t c = 1; c < classes; c++)
        if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      correct += best == y[b + i];
    }
  }
  return n ? (float)correct / (float)n : 0.0f;
}

/* Linear warm-up, then cosine decay to 0 at the last step. */
static float scheduled_lr(const qb_train_recipe* r, long step, long total) {
  if (step < r->warmup_steps) return r->lr * (float)(step + 1) / (float)r->warmup_steps;
  const double t = (double)(step - r->warmup_steps) / (double)(total - r->warmup_steps);
  return (float)(0.5 * r->lr * (1.0 + cos(M_PI * t)));
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int qb_train_run(qb_net* net, const qb_train_data* d, const qb_train_recipe* r,
                 qb_train_result* out, FILE* progress, qb_error* err) {
  const size_t in = net->layers[0]->in_size, classes = qb_net_output_size(net);
  const size_t batch = r->batch < net->max_batch ? r->batch : net->max_batch;
  if (batch == 0 || d->ntrain == 0) return qb_fail(err, "nothing to train on");
  size_t* order = malloc(d->ntrain * sizeof *order);
  float* xb = malloc(batch * in * sizeof *xb);
  float* dlogits = malloc(batch * classes * sizeof *dlogits);
  uint8_t* yb = malloc(batch);
  if (!order || !xb || !dlogits || !yb) {
    free(order), free(xb), free(dlogits), free(yb);
    return qb_fail(err, "out of memory");
  }
  for (size_t i = 0; i < d->ntrain; i++) order[i] = i;
  uint64_t shuffle = r->seed ^ 0x5DEECE66Dull;
  qb_optimizer opt = r->opt;
  const long steps_per_epoch = (long)((d->ntrain + batch - 1) / batch);
  const long total = steps_per_epoch * r->epochs;
  long step = 0;
  double seconds = 0.0;
  int rc = 0;
  memset(out, 0, sizeof *out);
  for (int e = 0; e < r->epochs && rc == 0; e++) {
    const double t0 = now_seconds();
    for (size_t i = d->ntrain; i > 1; i--) {
      const size_t j = (size_t)(splitmix64(&shuffle) % i);
      const size_t t = order[i - 1];
      order[i - 1] = order[j], order[j] = t;
    }
    double loss_sum = 0.0;
    for (size_t b = 0; b < d->ntrain && rc == 0; b += batch, step++) {
      const size_t count = d->ntrain - b < batch ? d->ntrain - b : batch;
      for (size_t i = 0; i < count; i++) {
        memcpy(xb + i * in, d->train_x + order[b + i] * in, in * sizeof *xb);
        yb[i] = d->train_y[order[b + i]];
      }
      const float* logits = qb_net_forward(net, count, xb, 1);
      if (!logits) {
        rc = qb_fail(err, "forward pass failed (out of memory or non-finite activations)");
        break;
      }
      const float loss = qb_train_softmax_xent(count, classes, logits, yb, dlogits);
      if (!isfinite(loss)) {
        rc = qb_fail(err, "epoch %d: the loss diverged (%g); lower the learning rate", e + 1,
                     (double)loss);
        break;
      }
      loss_sum += (double)loss * (double)count;
      qb_net_zero_grad(net);
      if (qb_net_backward(net, count, dlogits) != 0) {
        rc = qb_fail(err, "backward pass failed (out of memory)");
        break;
      }
      qb_optimizer_step(&opt, net, scheduled_lr(r, step, total));
    }
    seconds += now_seconds() - t0;
    if (rc) break;
    out->final_loss = (float)(loss_sum / (double)d->ntrain);
    out->test_accuracy = d->ntest ? qb_net_accuracy(net, d->test_x, d->test_y, d->ntest) : 0;
    if (progress) {
      fprintf(progress, "epoch %d/%d  loss %.4f  test accuracy %.2f %%  (%.1f s)\n", e + 1,
              r->epochs, (double)out->final_loss, 100.0 * (double)out->test_accuracy,
              seconds);
      fflush(progress);
    }
  }
  out->seconds = seconds;
  free(order), free(xb), free(dlogits), free(yb);
  return rc;
}
