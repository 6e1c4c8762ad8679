#include "qb_report_plots.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_gnuplot.h"
#include "qb_json_scan.h"
#include "qb_kernel_table.h"
#include "qb_mann_whitney.h"

void qb_plot_safe_name(const char* in, char* out, size_t size) {
  size_t n = 0;
  for (; *in && n + 1 < size; in++) {
    const char c = *in;
    const int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-' || c == '.';
    out[n++] = ok ? c : '_';
  }
  out[n] = '\0';
}

/* Opens RUN/plots/<base>.dat for writing. */
static FILE* open_data(const qb_plot_ctx* ctx, const char* base, char* path, size_t size,
                       qb_error* err) {
  snprintf(path, size, "%s/%s.dat", ctx->dir, base);
  FILE* f = fopen(path, "w");
  if (!f) qb_fail(err, "%s: cannot write", path);
  return f;
}

/* Renders <base>.png and <base>.svg from the data file with a plots/ script. */
static int render_both(const qb_plot_ctx* ctx, const char* script, const char* data,
                       const char* base, const char* vars, qb_plot_out* out, qb_error* err) {
  snprintf(out->name, sizeof out->name, "%s", base);
  if (!ctx->render) return 0;
  static const char* const kExt[] = {"png", "svg"};
  for (int i = 0; i < 2; i++) {
    char img[1200];
    snprintf(img, sizeof img, "%s/%s.%s", ctx->dir, base, kExt[i]);
    if (qb_gnuplot_render_vars(script, data, img, vars, err)) return -1;
  }
  return 0;
}

/* ---- Pareto ----------------------------------------------------------------------- */

typedef struct {
  double x, y;
  const qb_cfg_summary* c;
} xy;

static int cmp_xy(const void* a, const void* b) {
  const double u = ((const xy*)a)->x, v = ((const xy*)b)->x;
  return (u > v) - (u < v);
}

/* Writes one series: every point, then the front sorted by x. */
static void write_series(FILE* f, xy* pts, size_t n) {
  double* x = malloc((n + 1) * sizeof *x);
  double* y = malloc((n + 1) * sizeof *y);
  int* front = malloc((n + 1) * sizeof *front);
  if (!x || !y || !front) {
    free(x), free(y), free(front);
    return;
  }
  char label[160];
  for (size_t i = 0; i < n; i++) {
    x[i] = pts[i].x;
    y[i] = pts[i].y;
    qb_qconfig_short(&pts[i].c->id, label, sizeof label);
    fprintf(f, "%.6g\t%.6g\t%s\n", pts[i].x, pts[i].y, label);
  }
  fputs("\n\n", f);
  qb_pareto_front(x, y, n, front);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (front[i]) pts[k++] = pts[i];
  qsort(pts, k, sizeof *pts, cmp_xy);
  for (size_t i = 0; i < k; i++) {
    qb_qconfig_short(&pts[i].c->id, label, sizeof label);
    fprintf(f, "%.6g\t%.6g\t%s\n", pts[i].x, pts[i].y, label);
  }
  fputs("\n\n", f);
  free(x), free(y), free(front);
}

int qb_plot_pareto(const qb_plot_ctx* ctx, const qb_run_index* idx, const qb_model_summary* m,
                   bool by_bytes, qb_plot_out* out, qb_error* err) {
  out->name[0] = '\0';
  char safe[80], base[128], data[1200], names[256] = "";
  qb_plot_safe_name(m->name, safe, sizeof safe);
  snprintf(base, sizeof base, "pareto_%s_%s", by_bytes ? "bytes" : "latency", safe);
  xy* pts = malloc((m->ncfgs + 1) * sizeof *pts);
  if (!pts) return qb_fail(err, "out of memory");
  FILE* f = NULL;
  int nseries = 0;
  double xmin = INFINITY, xmax = 0;
  const int nsets = by_bytes ? 1 : idx->nbackends;
  for (int b = 0; b < nsets; b++) {
    size_t n = 0;
    for (size_t i = 0; i < m->ncfgs; i++) {
      const qb_cfg_summary* c = &m->cfgs[i];
      const double x = by_bytes ? c->bytes_weights / 1024 : c->latency_ns[b] / 1000;
      if (isfinite(x) && isfinite(c->drop)) pts[n++] = (xy){x, c->drop, c};
    }
    if (!n) continue;
    if (!f && !(f = open_data(ctx, base, data, sizeof data, err))) {
      free(pts);
      return -1;
    }
    for (size_t i = 0; i < n; i++) xmin = fmin(xmin, pts[i].x), xmax = fmax(xmax, pts[i].x);
    write_series(f, pts, n);
    const size_t used = strlen(names);
    snprintf(names + used, sizeof names - used, "%s%s", nseries++ ? " " : "",
             by_bytes ? "any-backend" : idx->backends[b]);
  }
  free(pts);
  if (!f) return 0;
  fclose(f);
  char title[160], vars[600];
  qb_gnuplot_quote(m->name, title, sizeof title);
  snprintf(vars, sizeof vars,
           "names='%s'; title='%s: %s drop from fp32 vs %s (grey: every qconfig; "
           "line and labels: the Pareto front)'; "
           "xlabel='%s'; logx=%d",
           names, title, m->metric, by_bytes ? "packed weight bytes" : "end-to-end latency, 1 thread",
           by_bytes ? "packed weights incl. scales and zero points (KiB)"
                    : "end-to-end latency per inference, median (microseconds)",
           xmax > 20 * xmin ? 1 : 0);
  return render_both(ctx, "pareto.gp", data, base, vars, out, err);
}

/* ---- per-layer tables (SQNR heatmap, sensitivity bars) -------------------------------- */

enum { MAX_LAYERS = 64, MAX_CFGS = 40 };

typedef struct {
  char layers[MAX_LAYERS][128];
  int nlayers;
  qb_result_row cfgs[MAX_CFGS];
  int ncfgs;
  double v[MAX_CFGS][MAX_LAYERS];
} layer_table;

static int layer_slot(layer_table* t, const char* name) {
  for (int i = 0; i < t->nlayers; i++)
    if (!strcmp(t->layers[i], name)) return i;
  if (t->nlayers == MAX_LAYERS) return -1;
  snprintf(t->layers[t->nlayers], sizeof t->layers[0], "%s", name);
  return t->nlayers++;
}

static int cfg_slot(layer_table* t, const qb_result_row* r) {
  for (int i = 0; i < t->ncfgs; i++)
    if (qb_same_qconfig(&t->cfgs[i], r)) return i;
  if (t->ncfgs == MAX_CFGS) return -1;
  t->cfgs[t->ncfgs] = *r;
  for (int l = 0; l < MAX_LAYERS; l++) t->v[t->ncfgs][l] = NAN;
  return t->ncfgs++;
}

/* The backend whose per-layer rows to show: scalar (the reference) if it has any. */
static const char* pick_backend(const qb_run_data* run, const char* model, const char* metric) {
  const char* first = NULL;
  for (size_t i = 0; i < run->rows.count; i++) {
    const qb_result_row* r = &run->rows.rows[i];
    if (strcmp(r->model, model) || strcmp(r->metric, metric) || qb_row_is_end_to_end(r)) continue;
    if (!strcmp(r->backend, "scalar")) return r->backend;
    if (!first) first = r->backend;
  }
  return first;
}

static void fill_table(const qb_run_data* run, const char* model, const char* metric,
                       const char* backend, layer_table* t) {
  memset(t, 0, sizeof *t);
  for (size_t i = 0; i < run->rows.count; i++) {
    const qb_result_row* r = &run->rows.rows[i];
    if (strcmp(r->model, model) || strcmp(r->metric, metric) || strcmp(r->backend, backend) ||
        qb_row_is_end_to_end(r))
      continue;
    const int c = cfg_slot(t, r), l = layer_slot(t, r->layer);
    if (c >= 0 && l >= 0) t->v[c][l] = r->value;
  }
}

int qb_plot_layer_sqnr(const qb_plot_ctx* ctx, const qb_run_data* run, const char* model,
                       qb_plot_out* out, qb_error* err) {
  out->name[0] = '\0';
  const char* backend = pick_backend(run, model, "sqnr");
  if (!backend) return 0;
  layer_table* t = malloc(sizeof *t);
  if (!t) return qb_fail(err, "out of memory");
  fill_table(run, model, "sqnr", backend, t);
  char safe[80], base[128], data[1200];
  qb_plot_safe_name(model, safe, sizeof safe);
  snprintf(base, sizeof base, "layer_sqnr_%s", safe);
  FILE* f = open_data(ctx, base, data, sizeof data, err);
  if (!f) {
    free(t);
    return -1;
  }
  for (int c = 0; c < t->ncfgs; c++)
    for (int l = 0; l < t->nlayers; l++)
      if (isfinite(t->v[c][l])) fprintf(f, "%d\t%d\t%.4g\n", l, c, t->v[c][l]);
  fclose(f);
  /* Tick labels (layer and qconfig names) as a small gnuplot file the script loads. */
  char tics[1200], label[160], q[160];
  snprintf(tics, sizeof tics, "%s/%s.tics.gp", ctx->dir, base);
  FILE* tf = fopen(tics, "w");
  if (!tf) {
    free(t);
    return qb_fail(err, "%s: cannot write", tics);
  }
  fputs("set xtics (", tf);
  for (int l = 0; l < t->nlayers; l++) {
    qb_gnuplot_quote(t->layers[l], q, sizeof q);
    fprintf(tf, "%s'%s' %d", l ? ", " : "", q, l);
  }
  fputs(")\nset ytics (", tf);
  for (int c = 0; c < t->ncfgs; c++) {
    qb_qconfig_short(&t->cfgs[c], label, sizeof label);
    qb_gnuplot_quote(label, q, sizeof q);
    fprintf(tf, "%s'%s' %d", c ? ", " : "", q, c);
  }
  fputs(")\n", tf);
  fclose(tf);
  char title[160], vars[1800];
  qb_gnuplot_quote(model, title, sizeof title);
  snprintf(vars, sizeof vars,
           "title='%s: per-layer SQNR of the quantized model vs fp32 (%s backend)'; ncols=%d; "
           "nrows=%d; ticsfile='%s'",
           title, backend, t->nlayers, t->ncfgs, tics);
  free(t);
  return render_both(ctx, "layer_sqnr.gp", data, base, vars, out, err);
}

int qb_plot_sensitivity(const qb_plot_ctx* ctx, const qb_run_data* run, const char* model,
                        qb_plot_out* out, qb_error* err) {
  out->name[0] = '\0';
  const char* backend = pick_backend(run, model, "sensitivity_only");
  if (!backend) return 0;
  layer_table* t = malloc(sizeof *t);
  if (!t) return qb_fail(err, "out of memory");
  fill_table(run, model, "sensitivity_only", backend, t);
  /* At most 4 qconfigs, the ones with the largest total sensitivity (the most telling). */
  int order[MAX_CFGS];
  double total[MAX_CFGS];
  for (int c = 0; c < t->ncfgs; c++) {
    order[c] = c;
    total[c] = 0;
    for (int l = 0; l < t->nlayers; l++)
      if (isfinite(t->v[c][l])) total[c] += t->v[c][l];
  }
  for (int i = 1; i < t->ncfgs; i++)
    for (int j = i; j > 0 && total[order[j]] > total[order[j - 1]]; j--) {
      const int tmp = order[j];
      order[j] = order[j - 1];
      order[j - 1] = tmp;
    }
  const int nshow = t->ncfgs < 4 ? t->ncfgs : 4;
  char safe[80], base[128], data[1200], label[160];
  qb_plot_safe_name(model, safe, sizeof safe);
  snprintf(base, sizeof base, "sensitivity_%s", safe);
  FILE* f = open_data(ctx, base, data, sizeof data, err);
  if (!f) {
    free(t);
    return -1;
  }
  fputs("layer", f);
  for (int i = 0; i < nshow; i++) {
    qb_qconfig_short(&t->cfgs[order[i]], label, sizeof label);
    fprintf(f, "\t%s", label);
  }
  fputc('\n', f);
  for (int l = 0; l < t->nlayers; l++) {
    fputs(t->layers[l], f);
    for (int i = 0; i < nshow; i++) {
      const double v = t->v[order[i]][l];
      if (isfinite(v)) fprintf(f, "\t%.4g", v);
      else fputs("\tNaN", f);
    }
    fputc('\n', f);
  }
  fclose(f);
  char title[160], vars[512];
  qb_gnuplot_quote(model, title, sizeof title);
  snprintf(vars, sizeof vars,
           "title='%s: sensitivity - task-metric drop with only one layer quantized (%s)'; nseries=%d",
           title, backend, nshow);
  free(t);
  return render_both(ctx, "sensitivity.gp", data, base, vars, out, err);
}

/* ---- backend comparison (end to end) ------------------------------------------------------ */

int qb_plot_backends(const qb_plot_ctx* ctx, const qb_run_index* idx, const qb_model_summary* m,
                     qb_plot_out* out, qb_error* err) {
  out->name[0] = '\0';
  const int s = qb_run_index_backend(idx, "scalar");
  if (s < 0 || idx->nbackends < 2) return 0;
  char safe[80], base[128], data[1200];
  qb_plot_safe_name(m->name, safe, sizeof safe);
  snprintf(base, sizeof base, "backends_%s", safe);
  FILE* f = NULL;
  int rows = 0;
  for (int b = 0; b < idx->nbackends; b++) {
    double log_sum = 0, lo = INFINITY, hi = 0;
    int n = 0;
    for (size_t i = 0; i < m->ncfgs; i++) {
      const double r = m->cfgs[i].latency_ns[s] / m->cfgs[i].latency_ns[b];
      if (!isfinite(r) || r <= 0) continue;
      log_sum += log(r);
      lo = fmin(lo, r);
      hi = fmax(hi, r);
      n++;
    }
    if (!n) continue;
    if (!f && !(f = open_data(ctx, base, data, sizeof data, err))) return -1;
    fprintf(f, "%d\t%s\t%.4g\t%.4g\t%.4g\t%d\n", rows++, idx->backends[b], exp(log_sum / n), lo, hi,
            n);
  }
  if (!f) return 0;
  fclose(f);
  if (rows < 2) return 0;
  char title[160], vars[512];
  qb_gnuplot_quote(m->name, title, sizeof title);
  snprintf(vars, sizeof vars,
           "title='%s: end-to-end speed-up over the scalar backend (geometric mean over "
           "qconfigs; bars: min..max)'",
           title);
  return render_both(ctx, "backends.gp", data, base, vars, out, err);
}

/* ---- roofline (gbench kernels) ------------------------------------------------------------- */

/* Ceilings from the roofline JSON: the best 1-thread int8 figure per backend, fp32
 * FMA, and the L2 / L3 / DRAM read bandwidths. */
static void roofline_ceilings(const char* json, char* peaks, size_t psize, char* peak_names,
                              size_t nsize, char* bws, size_t bsize, char* bw_names,
                              size_t bnsize) {
  peaks[0] = peak_names[0] = bws[0] = bw_names[0] = '\0';
  if (!json) return;
  const char* e = strstr(json, "\"entries\"");
  if (!e) return;
  const size_t len = strlen(json);
  size_t pos = (size_t)(e - json), start, end;
  char seen[8][24];
  double best[8];
  int nseen = 0;
  while (qb_json_next_object(json, len, &pos, &start, &end)) {
    char name[32] = "", backend[16] = "", kind[8] = "";
    double t1 = 0;
    const char* o = json + start;
    const size_t n = end - start;
    qb_json_scan_string(o, n, "name", name, sizeof name);
    qb_json_scan_string(o, n, "backend", backend, sizeof backend);
    qb_json_scan_string(o, n, "kind", kind, sizeof kind);
    if (!qb_json_scan_number(o, n, "t1", &t1) || t1 <= 0) continue;
    if (!strcmp(kind, "int8") || !strcmp(name, "fp32_fma_zmm") || !strcmp(name, "fp32_fma_ymm")) {
      char key[24];
      snprintf(key, sizeof key, "%s%s", !strcmp(kind, "int8") ? "int8-" : "fp32-",
               !strcmp(kind, "int8") ? backend : "fma");
      int k = 0;
      while (k < nseen && strcmp(seen[k], key)) k++;
      if (k == nseen && nseen < 8) snprintf(seen[nseen++], sizeof seen[0], "%s", key), best[k] = 0;
      if (k < 8) best[k] = fmax(best[k], t1);
    } else if (!strcmp(name, "read_l2") || !strcmp(name, "read_l3") || !strcmp(name, "read_dram")) {
      size_t u = strlen(bws);
      snprintf(bws + u, bsize - u, "%s%.4g", u ? " " : "", t1);
      u = strlen(bw_names);
      snprintf(bw_names + u, bnsize - u, "%s%s", u ? " " : "", name + 5);
    }
  }
  for (int k = 0; k < nseen; k++) {
    size_t u = strlen(peaks);
    snprintf(peaks + u, psize - u, "%s%.4g", k ? " " : "", best[k]);
    u = strlen(peak_names);
    snprintf(peak_names + u, nsize - u, "%s%s", k ? " " : "", seen[k]);
  }
}

int qb_plot_roofline(const qb_plot_ctx* ctx, const qb_run_data* run, const char* roofline_json,
                     qb_plot_out* out, qb_error* err) {
  out->name[0] = '\0';
  /* Group the 1-thread benchmarks by label (backend); peers keep their own series. */
  char groups[16][40];
  int ngroups = 0;
  for (size_t i = 0; i < run->ngbench; i++) {
    const qb_gbench_series* g = &run->gbench[i];
    if (!strstr(g->name, "threads:1/") || !isfinite(g->ops_per_s) || !isfinite(g->bytes_per_s))
      continue;
    char key[40];
    snprintf(key, sizeof key, "%s", strstr(g->name, "onednn") ? "oneDNN"
                                     : strstr(g->name, "openblas") ? "OpenBLAS (fp32)"
                                     : g->label[0] ? g->label : "?");
    int k = 0;
    while (k < ngroups && strcmp(groups[k], key)) k++;
    if (k == ngroups && ngroups < 16) snprintf(groups[ngroups++], sizeof groups[0], "%s", key);
  }
  if (!ngroups) return 0;
  char data[1200];
  FILE* f = open_data(ctx, "roofline", data, sizeof data, err);
  if (!f) return -1;
  for (int k = 0; k < ngroups; k++) {
    for (size_t i = 0; i < run->ngbench; i++) {
      const qb_gbench_series* g = &run->gbench[i];
      if (!strstr(g->name, "threads:1/") || !isfinite(g->ops_per_s) || !isfinite(g->bytes_per_s))
        continue;
      const char* key = strstr(g->name, "onednn") ? "oneDNN"
                        : strstr(g->name, "openblas") ? "OpenBLAS (fp32)"
                        : g->label[0] ? g->label : "?";
      if (strcmp(key, groups[k])) continue;
      fprintf(f, "%.6g\t%.6g\t%s\n", g->ops_per_s / g->bytes_per_s, g->ops_per_s / 1e9, g->name);
    }
    fputs("\n\n", f);
  }
  fclose(f);
  char peaks[256], peak_names[256], bws[128], bw_names[128], names[700] = "", vars[1600];
  roofline_ceilings(roofline_json, peaks, sizeof peaks, peak_names, sizeof peak_names, bws,
                    sizeof bws, bw_names, sizeof bw_names);
  for (int k = 0; k < ngroups; k++) {
    char q[48];
    qb_gnuplot_quote(groups[k], q, sizeof q);
    for (char* p = q; *p; p++)
      if (*p == ' ') *p = '_'; /* one word per series */
    const size_t u = strlen(names);
    snprintf(names + u, sizeof names - u, "%s%s", k ? " " : "", q);
  }
  snprintf(vars, sizeof vars, "names='%s'; peaks='%s'; peaknames='%s'; bws='%s'; bwnames='%s'",
           names, peaks, peak_names, bws, bw_names);
  return render_both(ctx, "roofline.gp", data, "roofline", vars, out, err);
}

/* ---- kernel families per backend (gbench) ------------------------------------------------ */

int qb_plot_kernels(const qb_plot_ctx* ctx, const qb_run_data* run, qb_plot_out* out, qb_error* err) {
  out->name[0] = '\0';
  qb_kernel_table* t = malloc(QB_KT_MAX_FAMILIES * sizeof *t);
  if (!t) return qb_fail(err, "out of memory");
  const int nt = qb_kernel_tables(run, t, QB_KT_MAX_FAMILIES);
  if (!nt) {
    free(t);
    return 0;
  }
  char data[1200], families[600] = "", ncols[64] = "";
  FILE* f = open_data(ctx, "kernels", data, sizeof data, err);
  if (!f) {
    free(t);
    return -1;
  }
  for (int k = 0; k < nt; k++) {
    const qb_kernel_table* T = &t[k];
    fputs("shape", f);
    for (int c = 0; c < T->ncols; c++) fprintf(f, "\t%s", T->cols[c]);
    fputc('\n', f);
    for (int r = 0; r < T->nrows; r++) {
      fputs(T->rows[r], f);
      for (int c = 0; c < T->ncols; c++)
        if (isfinite(T->gops[r][c])) fprintf(f, "\t%.5g", T->gops[r][c]);
        else fputs("\tNaN", f);
      fputc('\n', f);
    }
    fputs("\n\n", f);
    size_t u = strlen(families);
    snprintf(families + u, sizeof families - u, "%s%s", k ? " " : "", T->family);
    u = strlen(ncols);
    snprintf(ncols + u, sizeof ncols - u, "%s%d", k ? " " : "", T->ncols);
  }
  fclose(f);
  free(t);
  char vars[800];
  snprintf(vars, sizeof vars, "families='%s'; ncols='%s'", families, ncols);
  return render_both(ctx, "kernels.gp", data, "kernels", vars, out, err);
}
