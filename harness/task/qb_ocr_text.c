/* CTC greedy decoding, dictionaries, edit distance (see qb_ocr_text.h). */
#include "qb_ocr_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_file.h"

void qb_ocr_dict_free(qb_ocr_dict* d) {
  if (d->entries)
    for (size_t i = 0; i < d->count; i++) free(d->entries[i]);
  free(d->entries);
  memset(d, 0, sizeof *d);
}

static int add_entry(qb_ocr_dict* d, const char* s, size_t len, size_t* cap) {
  if (d->count == *cap) {
    const size_t nc = *cap ? 2 * *cap : 256;
    char** e = realloc(d->entries, nc * sizeof *e);
    if (!e) return -1;
    d->entries = e, *cap = nc;
  }
  char* copy = malloc(len + 1);
  if (!copy) return -1;
  memcpy(copy, s, len);
  copy[len] = 0;
  d->entries[d->count++] = copy;
  return 0;
}

int qb_ocr_dict_load(const char* path, int with_space, qb_ocr_dict* d, qb_error* err) {
  memset(d, 0, sizeof *d);
  char* text = NULL;
  size_t len = 0;
  if (qb_file_read_all(path, 64u << 20, &text, &len, err)) return -1;
  size_t cap = 0, line = 1;
  for (size_t i = 0; i < len; line++) {
    size_t j = i;
    while (j < len && text[j] != '\n') j++;
    size_t end = j > i && text[j - 1] == '\r' ? j - 1 : j;
    if (end == i) {
      free(text);
      qb_ocr_dict_free(d);
      return qb_fail(err, "%s:%zu: empty dictionary entry", path, line);
    }
    if (add_entry(d, text + i, end - i, &cap)) goto oom;
    i = j + 1;
  }
  free(text);
  if (d->count == 0) return qb_fail(err, "%s: the dictionary is empty", path);
  if (with_space && add_entry(d, " ", 1, &cap)) goto oom;
  return 0;
oom:
  free(text);
  qb_ocr_dict_free(d);
  return qb_fail(err, "%s: out of memory reading the dictionary", path);
}

int qb_ocr_dict_load_for(const char* path, size_t classes, qb_ocr_dict* d, qb_error* err) {
  if (qb_ocr_dict_load(path, 0, d, err)) return -1;
  if (classes == d->count + 1) return 0;
  if (classes == d->count + 2) {
    size_t n = d->count;
    qb_ocr_dict_free(d);
    if (qb_ocr_dict_load(path, 1, d, err)) return -1;
    return d->count == n + 1 ? 0 : -1;
  }
  const size_t n = d->count;
  qb_ocr_dict_free(d);
  return qb_fail(err,
                 "%s: %zu entries, but the model has %zu classes (expected entries + 1 for the "
                 "CTC blank, or + 2 with the space class)",
                 path, n, classes);
}

int qb_ocr_dict_find(const qb_ocr_dict* d, const char* utf8, size_t len) {
  for (size_t i = 0; i < d->count; i++)
    if (strlen(d->entries[i]) == len && !memcmp(d->entries[i], utf8, len)) return (int)i + 1;
  return -1;
}

long qb_ctc_decode_classes(const size_t* cls, size_t steps, const qb_ocr_dict* d, char* out,
                           size_t size) {
  size_t used = 0;
  size_t prev = 0; /* the blank: a first non-blank class is always emitted */
  if (size) out[0] = 0;
  for (size_t t = 0; t < steps; t++) {
    const size_t c = cls[t];
    /* A repeat is merged only when no blank separates it: "aa" needs a-blank-a. */
    if (c != 0 && c != prev) {
      if (c > d->count) return -1;
      const char* e = d->entries[c - 1];
      const size_t el = strlen(e);
      if (size && used + el < size) {
        memcpy(out + used, e, el);
        used += el;
        out[used] = 0;
      }
    }
    prev = c;
  }
  return (long)used;
}

long qb_ctc_greedy_decode(const float* probs, size_t steps, size_t classes, const qb_ocr_dict* d,
                          char* out, size_t size) {
  size_t* cls = malloc((steps ? steps : 1) * sizeof *cls);
  if (!cls) return -1;
  for (size_t t = 0; t < steps; t++) {
    const float* p = probs + t * classes;
    size_t best = 0;
    for (size_t c = 1; c < classes; c++)
      if (p[c] > p[best]) best = c;
    cls[t] = best;
  }
  const long n = qb_ctc_decode_classes(cls, steps, d, out, size);
  free(cls);
  return n;
}

/* One code point from s (at least one byte consumed); invalid sequences -> U+FFFD. */
static uint32_t next_code_point(const unsigned char** s) {
  const unsigned char* p = *s;
  const unsigned char c = *p;
  int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
  if (extra < 0) {
    *s = p + 1;
    return 0xFFFD;
  }
  uint32_t cp = extra == 0 ? c : c & (0x3F >> extra);
  for (int i = 1; i <= extra; i++) {
    if ((p[i] & 0xC0) != 0x80) {
      *s = p + 1;
      return 0xFFFD;
    }
    cp = cp << 6 | (p[i] & 0x3F);
  }
  *s = p + 1 + extra;
  return cp;
}

size_t qb_utf8_decode(const char* s, uint32_t* out, size_t cap) {
  const unsigned char* p = (const unsigned char*)s;
  size_t n = 0;
  while (*p) {
    const uint32_t cp = next_code_point(&p);
    if (n < cap) out[n] = cp;
    n++;
  }
  return n;
}

size_t qb_utf8_length(const char* s) { return qb_utf8_decode(s, NULL, 0); }

long qb_edit_distance(const uint32_t* a, size_t na, const uint32_t* b, size_t nb) {
  /* One row of the dynamic programme: row[j] = distance(a[0..i), b[0..j)). */
  size_t* row = malloc((nb + 1) * sizeof *row);
  if (!row) return -1;
  for (size_t j = 0; j <= nb; j++) row[j] = j;
  for (size_t i = 1; i <= na; i++) {
    size_t diag = row[0]; /* distance(a[0..i-1), b[0..j-1)) */
    row[0] = i;
    for (size_t j = 1; j <= nb; j++) {
      const size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  const long d = (long)row[nb];
  free(row);
  return d;
}

long qb_edit_distance_utf8(const char* a, const char* b) {
  const size_t na = qb_utf8_length(a), nb = qb_utf8_length(b);
  uint32_t* ca = malloc((na + 1) * sizeof *ca);
  uint32_t* cb = malloc((nb + 1) * sizeof *cb);
  long d = -1;
  if (ca && cb) {
    qb_utf8_decode(a, ca, na);
    qb_utf8_decode(b, cb, nb);
    d = qb_edit_distance(ca, na, cb, nb);
  }
  free(ca), free(cb);
  return d;
}
