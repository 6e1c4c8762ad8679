#include "qb_result.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TEXT(field) {#field, QB_COL_TEXT, offsetof(qb_result_row, field), \
                     sizeof(((qb_result_row*)0)->field)}
#define INT(field) {#field, QB_COL_INT, offsetof(qb_result_row, field), sizeof(int)}

static const qb_result_column kColumns[] = {
    TEXT(run_id),   TEXT(item_id),       TEXT(model),   TEXT(layer),         TEXT(backend),
    TEXT(kernel),   TEXT(workflow),      INT(w_bits),   TEXT(w_scheme),      TEXT(w_granularity),
    TEXT(w_range),  INT(a_bits),         TEXT(a_scheme), TEXT(a_granularity), TEXT(a_range),
    INT(threads),   TEXT(metric),
    {"value", QB_COL_REAL, offsetof(qb_result_row, value), sizeof(double)},
    TEXT(unit),
};

const qb_result_column* qb_result_columns(size_t* count) {
  *count = sizeof kColumns / sizeof *kColumns;
  return kColumns;
}

void qb_result_rows_init(qb_result_rows* r) { memset(r, 0, sizeof *r); }

static void predictions_free(qb_item_predictions* p) {
  free(p->predicted);
  free(p->fp32);
  free(p->labels);
  memset(p, 0, sizeof *p);
}

void qb_result_rows_free(qb_result_rows* r) {
  free(r->rows);
  predictions_free(&r->predictions);
  memset(r, 0, sizeof *r);
}

void qb_result_rows_clear(qb_result_rows* r) {
  r->count = 0;
  predictions_free(&r->predictions);
}

int qb_result_rows_set_predictions(qb_result_rows* r, const uint16_t* predicted,
                                   const uint16_t* fp32, const uint16_t* labels, size_t n) {
  predictions_free(&r->predictions);
  if (!n) return 0;
  qb_item_predictions* p = &r->predictions;
  p->predicted = malloc(n * sizeof *p->predicted);
  p->fp32 = malloc(n * sizeof *p->fp32);
  p->labels = malloc(n * sizeof *p->labels);
  if (!p->predicted || !p->fp32 || !p->labels) {
    predictions_free(p);
    return -1;
  }
  memcpy(p->predicted, predicted, n * sizeof *p->predicted);
  memcpy(p->fp32, fp32, n * sizeof *p->fp32);
  memcpy(p->labels, labels, n * sizeof *p->labels);
  p->count = n;
  return 0;
}

/* Copies text into a fixed column, cut to fit; newlines become spaces so that one
 * row is always one CSV line. */
static void set_text(char* dst, size_t size, const char* src) {
  size_t i = 0;
  for (; src && src[i] && i + 1 < size; i++)
    dst[i] = (src[i] == '\n' || src[i] == '\r') ? ' ' : src[i];
  dst[i] = '\0';
}

qb_result_row* qb_result_rows_add(qb_result_rows* r, const char* layer, const char* kernel,
                                  int threads, const char* metric, double value,
                                  const char* unit) {
  if (r->count == r->cap) {
    const size_t cap = r->cap ? 2 * r->cap : 64;
    qb_result_row* rows = realloc(r->rows, cap * sizeof *rows);
    if (!rows) return NULL;
    r->rows = rows;
    r->cap = cap;
  }
  qb_result_row* row = &r->rows[r->count++];
  *row = r->identity;
  set_text(row->layer, sizeof row->layer, layer);
  set_text(row->kernel, sizeof row->kernel, kernel);
  row->threads = threads;
  set_text(row->metric, sizeof row->metric, metric);
  row->value = value;
  set_text(row->unit, sizeof row->unit, unit);
  return row;
}

void qb_result_cell(const qb_result_row* row, const qb_result_column* col, char* buf,
                    size_t size) {
  const char* base = (const char*)row + col->offset;
  switch (col->type) {
    case QB_COL_TEXT: set_text(buf, size, base); break;
    case QB_COL_INT: snprintf(buf, size, "%d", *(const int*)base); break;
    case QB_COL_REAL: {
      const double v = *(const double*)base;
      /* %.17g round-trips a double exactly. */
      if (isfinite(v)) snprintf(buf, size, "%.17g", v);
      else if (isinf(v)) snprintf(buf, size, "%s", v > 0 ? "inf" : "-inf");
      else buf[0] = '\0';
      break;
    }
  }
}

int qb_result_set_cell(qb_result_row* row, const qb_result_column* col, const char* text) {
  char* base = (char*)row + col->offset;
  char* end;
  errno = 0;
  switch (col->type) {
    case QB_COL_TEXT: set_text(base, col->size, text); return 0;
    case QB_COL_INT: {
      const long v = strtol(text, &end, 10);
      if (!*text || *end || errno || v < -2147483647L || v > 2147483647L) return -1;
      *(int*)base = (int)v;
      return 0;
    }
    case QB_COL_REAL: {
      if (!*text) {
        *(double*)base = NAN;
        return 0;
      }
      const double v = strtod(text, &end);
      if (*end || errno == EINVAL) return -1;
      *(double*)base = v;
      return 0;
    }
  }
  return -1;
}
