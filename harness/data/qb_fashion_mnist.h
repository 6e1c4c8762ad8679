/* Fashion-MNIST from Debian's dataset-fashion-mnist: gzipped IDX files
 * (train-*: 60,000 images, t10k-*: 10,000) of 28x28 uint8 pixels and uint8 labels
 * 0..9. IDX: big-endian magic 0x00000803 (images: count, rows, cols) or
 * 0x00000801 (labels: count), then the raw bytes. */
#ifndef QB_FASHION_MNIST_H
#define QB_FASHION_MNIST_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"

/* Largest IDX payload read (256 MiB; Fashion-MNIST's training images are 47 MB):
 * a header announcing more, or more than its file can hold, is an error. */
#define QB_IDX_MAX_BYTES ((size_t)256 << 20)

typedef struct {
  size_t count, rows, cols;
  uint8_t* pixels; /* count x rows x cols */
  uint8_t* labels; /* count */
} qb_fmnist;

extern const char* const qb_fmnist_class_names[10];

/* split is "train" or "t10k"; dir is the folder holding the four .gz files. */
int qb_fmnist_load(const char* dir, const char* split, qb_fmnist* out, qb_error* err);
void qb_fmnist_free(qb_fmnist* d);

#endif
