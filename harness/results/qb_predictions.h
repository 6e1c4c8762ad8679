/* Per-sample predictions of a run: what the paired accuracy statistics
 * (harness/stats/qb_paired.h) and qbench compare's accuracy gate read.
 *
 * Per item that measured accuracy, the predicted class of every evaluation sample;
 * per model, once, the fp32 model's predicted classes and the true classes (labels;
 * QB_LABEL_NONE when unlabelled), the reference every item of the model is scored
 * against. Keys: the item id, "<model>/fp32", "<model>/labels".
 *
 * Run folder: RUN/predictions/<key with '/' as '+'>.npy, a 1-D .npy of uint8 ('|u1')
 * when every value fits in a byte, else uint16 ('<u2'): 1000 images cost 1,128 bytes
 * an item (nightly's 2376 items: about 2.7 MB), 10,000 images 10,128 bytes. Each file
 * is written to .tmp, then renamed, before the item's rows are recorded, so a
 * recorded item always has its file (resume keeps it; an unrecorded item's file is
 * rewritten when the item runs again).
 * History: table predictions(run_id, item_id, n, data), data a blob of one width
 * byte (1 or 2) then the n values (little-endian for 2), in the item's transaction. */
#ifndef QB_PREDICTIONS_H
#define QB_PREDICTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_result.h"

/* "<model>/fp32", "<model>/labels". */
void qb_predictions_key(const char* model, const char* what, char* buf, size_t size);
/* RUN/predictions/<key, '/' -> '+'>.npy */
void qb_predictions_file(const char* run_dir, const char* key, char* buf, size_t size);

/* The .npy file of n values (atomically). */
int qb_predictions_write_file(const char* path, const uint16_t* v, size_t n, qb_error* err);
/* Reads one: 1 read (*v malloc'd), 0 no such file, -1 an unreadable or malformed file
 * (not 1-D, or not uint8/uint16). */
int qb_predictions_read_file(const char* path, uint16_t** v, size_t* n, qb_error* err);

/* The blob of n values: returns its size; out holds at least 1 + 2 n bytes. */
size_t qb_predictions_encode(const uint16_t* v, size_t n, unsigned char* out);
/* Decodes a blob (*v malloc'd); -1 when malformed or out of memory. */
int qb_predictions_decode(const unsigned char* blob, size_t len, uint16_t** v, size_t* n);

/* An item's predictions into RUN/predictions/, and its model's fp32 predictions and
 * labels when that model has none there yet. */
int qb_predictions_save_item(const char* run_dir, const char* model, const char* item_id,
                             const qb_item_predictions* p, qb_error* err);

#endif
