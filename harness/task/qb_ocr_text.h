/* Text recognition post-processing and its metrics (task ocr-rec).
 *
 * CTC greedy decoding as PaddleOCR's CTCLabelDecode does it: per time step take the
 * argmax class, merge repeats, drop the blank. Class 0 is the blank, classes
 * 1..n are the dictionary's lines in file order, and models trained with
 * use_space_char (PP-OCRv3/v4 rec) have one more class, ' ', at n + 1:
 * qb_ocr_dict_load decides which from the model's class count.
 *
 * Character error rate: Levenshtein distance (insertions, deletions, substitutions,
 * each cost 1) between prediction and reference, counted in Unicode code points,
 * divided by the reference's length; summed over a set, CER = sum(distance) /
 * sum(reference length) (as the OCR literature reports it). */
#ifndef QB_OCR_TEXT_H
#define QB_OCR_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"

typedef struct {
  char** entries;   /* class c >= 1 -> entries[c - 1], UTF-8, NUL-terminated */
  size_t count;     /* entries (without the blank) */
} qb_ocr_dict;

/* Reads one entry per line (UTF-8; "\r\n" or "\n"; an empty line is an error, a
 * trailing newline is not); with_space appends " " as the last class. */
int qb_ocr_dict_load(const char* path, int with_space, qb_ocr_dict* d, qb_error* err);
/* For a model with `classes` output classes: space added when classes == lines + 2,
 * none when lines + 1, else an error naming both counts. */
int qb_ocr_dict_load_for(const char* path, size_t classes, qb_ocr_dict* d, qb_error* err);
void qb_ocr_dict_free(qb_ocr_dict* d);
/* The class of a UTF-8 character (one entry), or -1. Linear; for generators. */
int qb_ocr_dict_find(const qb_ocr_dict* d, const char* utf8, size_t len);

/* Greedy CTC over probs[steps x classes] (row-major; scores or probabilities, only
 * the argmax matters; ties take the lowest class). Writes the UTF-8 text into out
 * (NUL-terminated, truncated to size - 1 bytes). Returns the bytes written, or -1 if a
 * class outside the dictionary wins (classes > dict->count + 1) or out of memory. */
long qb_ctc_greedy_decode(const float* probs, size_t steps, size_t classes, const qb_ocr_dict* d,
                          char* out, size_t size);

/* The same from the argmax class of each step (cls[steps]): repeats merged, blanks
 * dropped. */
long qb_ctc_decode_classes(const size_t* cls, size_t steps, const qb_ocr_dict* d, char* out,
                           size_t size);

/* Decodes UTF-8 into code points (invalid bytes count as one U+FFFD each); returns
 * the count (at most cap written). */
size_t qb_utf8_decode(const char* s, uint32_t* out, size_t cap);
/* Code points in s. */
size_t qb_utf8_length(const char* s);

/* Levenshtein distance between two code-point sequences; -1 when out of memory. */
long qb_edit_distance(const uint32_t* a, size_t na, const uint32_t* b, size_t nb);
/* Between two UTF-8 strings, in code points. */
long qb_edit_distance_utf8(const char* a, const char* b);

#endif
