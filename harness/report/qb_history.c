#include "qb_history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb_mann_whitney.h"
#include "qb_recommend.h"
#include "qb_results_db.h"
#include "qb_run_index.h"

static qb_history_series* series_for(qb_history* h, const char* label, const char* unit) {
  for (size_t i = 0; i < h->nseries; i++)
    if (!strcmp(h->series[i].label, label)) return &h->series[i];
  qb_history_series* s = realloc(h->series, (h->nseries + 1) * sizeof *s);
  if (!s) return NULL;
  h->series = s;
  qb_history_series* n = &s[h->nseries++];
  memset(n, 0, sizeof *n);
  snprintf(n->label, sizeof n->label, "%s", label);
  snprintf(n->unit, sizeof n->unit, "%s", unit);
  return n;
}

/* The values of one point (one run of one series) until they are folded into
 * their median; rows arrive ordered by run start, then insertion. */
typedef struct {
  double* v;
  size_t n, cap;
} vlist;

static bool matches(const qb_history_query* q, const qb_result_row* r, const qb_run_record* run) {
  if (q->model && strcmp(r->model, q->model)) return false;
  if (q->backend && strcmp(r->backend, q->backend)) return false;
  if (q->layer ? strcmp(r->layer, q->layer) : !qb_row_is_end_to_end(r)) return false;
  if (q->machine && strcmp(run->machine_fingerprint, q->machine)) return false;
  if (q->qconfig) {
    char t[160];
    qb_qconfig_cli_text(r, t, sizeof t);
    if (strcmp(t, q->qconfig)) return false;
  }
  return isfinite(r->value);
}

typedef struct {
  const qb_history_query* q;
  qb_history* h;
  vlist* lists; /* parallel to every point of every series, by global index */
  size_t nlists, cap;
  bool oom;
} ctx_t;

static void on_row(const qb_result_row* r, const qb_run_record* run, void* user) {
  ctx_t* c = user;
  if (c->oom || !matches(c->q, r, run)) return;
  char label[448], t[160];
  qb_qconfig_cli_text(r, t, sizeof t);
  /* One series per machine too: speed on two machines is not one curve. */
  char threads[24] = "";
  if (r->threads > 1) snprintf(threads, sizeof threads, " threads:%d", r->threads);
  /* End-to-end rows carry the model's name as their layer: name it once. */
  const bool e2e = !strcmp(r->layer, r->model);
  snprintf(label, sizeof label, "%s%s%s %s %s%s [machine %.16s]", r->model, e2e ? "" : " ",
           e2e ? "" : r->layer, r->backend, t, threads, run->machine_fingerprint);
  qb_history_series* s = series_for(c->h, label, r->unit);
  if (!s) {
    c->oom = true;
    return;
  }
  qb_history_point* last = s->npoints ? &s->points[s->npoints - 1] : NULL;
  if (!last || strcmp(last->run_id, r->run_id)) {
    if (s->npoints == s->cap) {
      const size_t cap = s->cap ? 2 * s->cap : 16;
      qb_history_point* p = realloc(s->points, cap * sizeof *p);
      if (!p) {
        c->oom = true;
        return;
      }
      s->points = p;
      s->cap = cap;
    }
    last = &s->points[s->npoints++];
    memset(last, 0, sizeof *last);
    snprintf(last->started_utc, sizeof last->started_utc, "%s", run->started_utc);
    snprintf(last->run_id, sizeof last->run_id, "%s", r->run_id);
    snprintf(last->git_revision, sizeof last->git_revision, "%s", run->git_revision);
    snprintf(last->fingerprint, sizeof last->fingerprint, "%s", run->machine_fingerprint);
    /* the point's values: a vlist keyed by its address order (series, point) */
    if (c->nlists == c->cap) {
      const size_t cap = c->cap ? 2 * c->cap : 64;
      vlist* l = realloc(c->lists, cap * sizeof *l);
      if (!l) {
        c->oom = true;
        return;
      }
      c->lists = l;
      c->cap = cap;
    }
    memset(&c->lists[c->nlists], 0, sizeof *c->lists);
    last->n = c->nlists++; /* temporarily: index of its vlist */
  }
  vlist* l = &c->lists[last->n];
  if (l->n == l->cap) {
    const size_t cap = l->cap ? 2 * l->cap : 8;
    double* v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      c->oom = true;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = r->value;
}

int qb_history_query_db(const qb_history_query* q, qb_history* out, qb_error* err) {
  memset(out, 0, sizeof *out);
  struct stat st;
  if (stat(q->db_path, &st)) return qb_fail(err, "%s: no such results database", q->db_path);
  qb_results_db* db;
  if (qb_results_db_open(q->db_path, &db, err)) return -1;
  ctx_t c = {q, out, NULL, 0, 0, false};
  int rc = qb_results_db_select(db, NULL, q->metric, on_row, &c, err);
  qb_results_db_close(db);
  if (!rc && c.oom) rc = qb_fail(err, "out of memory");
  for (size_t s = 0; s < out->nseries; s++)
    for (size_t p = 0; p < out->series[s].npoints; p++) {
      qb_history_point* pt = &out->series[s].points[p];
      const vlist* l = &c.lists[pt->n];
      pt->value = qb_median(l->v, l->n);
      pt->n = l->n;
    }
  for (size_t i = 0; i < c.nlists; i++) free(c.lists[i].v);
  free(c.lists);
  if (rc) qb_history_free(out);
  return rc;
}

void qb_history_free(qb_history* h) {
  for (size_t i = 0; i < h->nseries; i++) free(h->series[i].points);
  free(h->series);
  memset(h, 0, sizeof *h);
}

void qb_history_write_text(FILE* f, const qb_history* h, const qb_history_query* q) {
  for (size_t s = 0; s < h->nseries; s++) {
    const qb_history_series* S = &h->series[s];
    fprintf(f, "%s%s (%s%s%s)\n", s ? "\n" : "", S->label, q->metric, S->unit[0] ? ", " : "", S->unit);
    fprintf(f, "  %-20s %-36s %-18s %-16s %14s %4s\n", "started (UTC)", "run", "revision", "machine",
            "value", "n");
    for (size_t p = 0; p < S->npoints; p++) {
      const qb_history_point* pt = &S->points[p];
      fprintf(f, "  %-20s %-36s %-18.18s %-16s %14.6g %4zu\n", pt->started_utc, pt->run_id,
              pt->git_revision, pt->fingerprint, pt->value, pt->n);
    }
  }
}

int qb_history_write_plot_data(const char* path, const qb_history* h, qb_error* err) {
  FILE* f = fopen(path, "w");
  if (!f) return qb_fail(err, "%s: cannot write", path);
  for (size_t s = 0; s < h->nseries; s++) {
    fprintf(f, "%s\tvalue\n", h->series[s].label); /* the block's title (columnheader) */
    for (size_t p = 0; p < h->series[s].npoints; p++)
      fprintf(f, "%s\t%.9g\t%s\n", h->series[s].points[p].started_utc, h->series[s].points[p].value,
              h->series[s].points[p].run_id);
    fputs("\n\n", f);
  }
  return fclose(f) ? qb_fail(err, "%s: write failed", path) : 0;
}
