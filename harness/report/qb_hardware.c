#include "qb_hardware.h"

#include "qb_results_files.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb_gnuplot.h"
#include "qb_json_scan.h"
#include "qb_mann_whitney.h"
#include "qb_report.h"
#include "qb_roofline_file.h"
#include "qb_run_index.h"

typedef struct {
  const qb_run_data* runs;
  size_t n;
  qb_run_index* idx;
  double* peak; /* int8 GOPS per run */
  FILE* f;
} hw;

static void machines(hw* h) {
  fputs("## Machines\n\n| |", h->f);
  for (size_t i = 0; i < h->n; i++) fprintf(h->f, " %c: %s |", 'A' + (int)i, h->runs[i].run_id);
  fputs("\n| --- |", h->f);
  for (size_t i = 0; i < h->n; i++) fputs(" --- |", h->f);
  fputs("\n| CPU (libcpuid) |", h->f);
  for (size_t i = 0; i < h->n; i++)
    fprintf(h->f, " %s (%s) |", h->runs[i].brand[0] ? h->runs[i].brand : "?",
            h->runs[i].vendor[0] ? h->runs[i].vendor : "?");
  fputs("\n| cores / threads (hwloc) |", h->f);
  for (size_t i = 0; i < h->n; i++) fprintf(h->f, " %d / %d |", h->runs[i].cores, h->runs[i].pus);
  fputs("\n| L2 / L3 |", h->f);
  for (size_t i = 0; i < h->n; i++)
    fprintf(h->f, " %.0f KiB / %.0f MiB |", h->runs[i].l2_bytes / 1024, h->runs[i].l3_bytes / 1048576);
  fputs("\n| fingerprint |", h->f);
  for (size_t i = 0; i < h->n; i++) fprintf(h->f, " `%s` |", h->runs[i].fingerprint);
  fputs("\n| ISA backends usable |", h->f);
  for (size_t i = 0; i < h->n; i++)
    fprintf(h->f, " %s |", h->runs[i].backends_usable[0] ? h->runs[i].backends_usable : "?");
  fputs("\n| backends measured |", h->f);
  for (size_t i = 0; i < h->n; i++) {
    fputc(' ', h->f);
    for (int b = 0; b < h->idx[i].nbackends; b++) fprintf(h->f, "%s%s", b ? ", " : "", h->idx[i].backends[b]);
    fputs(" |", h->f);
  }
  fputs("\n| int8 peak, 1 thread (roofline) |", h->f);
  for (size_t i = 0; i < h->n; i++) {
    if (isfinite(h->peak[i])) fprintf(h->f, " %.1f GOPS |", h->peak[i]);
    else fputs(" not measured |", h->f);
  }
  fputs("\n", h->f);
}

/* Fastest backend of a qconfig in one run: latency and backend index. */
static double fastest(const qb_run_index* idx, const qb_cfg_summary* c, int* backend) {
  double best = NAN;
  *backend = -1;
  for (int b = 0; b < idx->nbackends; b++)
    if (isfinite(c->latency_ns[b]) && !(c->latency_ns[b] >= best)) best = c->latency_ns[b], *backend = b;
  return best;
}

static const qb_cfg_summary* find_cfg(const qb_model_summary* m, const qb_result_row* id) {
  for (size_t i = 0; m && i < m->ncfgs; i++)
    if (qb_same_qconfig(&m->cfgs[i].id, id)) return &m->cfgs[i];
  return NULL;
}

/* Per model, geometric means of the speed-ups over run 0 (raw, normalized) for the plot. */
static void models(hw* h, FILE* dat) {
  fputs("\n## Models: end-to-end latency on each machine's fastest backend\n\n"
        "Columns are the machines A, B, ... of the table above. Speed-up is relative to A;\n"
        "*norm.* divides it by the ratio of int8 peaks\n"
        "(1.00 = exactly what the roofline predicts).\n", h->f);
  if (dat) {
    fputs("model", dat);
    for (size_t i = 1; i < h->n; i++)
      fprintf(dat, "\t%c: %s\t%c: roofline-normalized", 'A' + (int)i,
              h->runs[i].brand[0] ? h->runs[i].brand : h->runs[i].run_id, 'A' + (int)i);
    fputc('\n', dat);
  }
  for (size_t k = 0; k < h->idx[0].nmodels; k++) {
    const qb_model_summary* m0 = &h->idx[0].models[k];
    fprintf(h->f, "\n### %s\n\n| qconfig |", m0->name);
    for (size_t i = 0; i < h->n; i++) fprintf(h->f, " %c |", 'A' + (int)i);
    fputs("\n| --- |", h->f);
    for (size_t i = 0; i < h->n; i++) fputs(" ---: |", h->f);
    fputc('\n', h->f);
    double lraw[16] = {0}, lnorm[16] = {0};
    int cnt[16] = {0};
    for (size_t c = 0; c < m0->ncfgs; c++) {
      char label[256];
      qb_qconfig_label(&m0->cfgs[c].id, label, sizeof label);
      int b0;
      const double t0 = fastest(&h->idx[0], &m0->cfgs[c], &b0);
      if (!isfinite(t0)) continue;
      fprintf(h->f, "| %s |", label);
      for (size_t i = 0; i < h->n; i++) {
        const qb_cfg_summary* ci = find_cfg(qb_run_index_model(&h->idx[i], m0->name), &m0->cfgs[c].id);
        int b;
        const double t = ci ? fastest(&h->idx[i], ci, &b) : NAN;
        char ts[32];
        qb_format_ns(t, ts, sizeof ts);
        if (!isfinite(t)) {
          fputs(" — |", h->f);
          continue;
        }
        fprintf(h->f, " %s (%s)", ts, h->idx[i].backends[b]);
        if (i) {
          const double up = t0 / t, norm = up / (h->peak[i] / h->peak[0]);
          fprintf(h->f, " %.2fx", up);
          if (isfinite(norm)) fprintf(h->f, ", norm. %.2f", norm);
          if (i < 16) {
            lraw[i] += log(up);
            lnorm[i] += isfinite(norm) ? log(norm) : 0;
            cnt[i]++;
          }
        }
        fputs(" |", h->f);
      }
      fputc('\n', h->f);
    }
    if (dat) {
      fputs(m0->name, dat);
      for (size_t i = 1; i < h->n && i < 16; i++)
        if (cnt[i]) fprintf(dat, "\t%.4g\t%.4g", exp(lraw[i] / cnt[i]), isfinite(h->peak[i] / h->peak[0]) ? exp(lnorm[i] / cnt[i]) : NAN);
        else fputs("\tNaN\tNaN", dat);
      fputc('\n', dat);
    }
  }
}

static void kernels(hw* h) {
  const qb_run_data* r0 = &h->runs[0];
  int header = 0;
  for (size_t g = 0; g < r0->ngbench; g++) {
    const char* name = r0->gbench[g].name;
    if (!header++) {
      fputs("\n## Kernels (gbench.json): GOPS and % of that machine's peak\n\n| benchmark |", h->f);
      for (size_t i = 0; i < h->n; i++) fprintf(h->f, " %c |", 'A' + (int)i);
      fputs("\n| --- |", h->f);
      for (size_t i = 0; i < h->n; i++) fputs(" ---: |", h->f);
      fputc('\n', h->f);
    }
    fprintf(h->f, "| `%s` |", name);
    for (size_t i = 0; i < h->n; i++) {
      const qb_gbench_series* s = NULL;
      for (size_t j = 0; j < h->runs[i].ngbench && !s; j++)
        if (!strcmp(h->runs[i].gbench[j].name, name)) s = &h->runs[i].gbench[j];
      if (!s || !isfinite(s->ops_per_s)) fputs(" — |", h->f);
      else if (isfinite(s->pct_of_peak)) fprintf(h->f, " %.2f (%.0f %%) |", s->ops_per_s / 1e9, s->pct_of_peak);
      else fprintf(h->f, " %.2f |", s->ops_per_s / 1e9);
    }
    fputc('\n', h->f);
  }
}

int qb_hardware_compare(const qb_run_data* runs, size_t nruns, const qb_hardware_options* opt,
                        char* path_out, size_t path_size, qb_error* err) {
  if (nruns < 2 || nruns > 16) return qb_fail(err, "expected 2..16 runs, got %zu", nruns);
  hw h = {runs, nruns, calloc(nruns, sizeof(qb_run_index)), calloc(nruns, sizeof(double)), NULL};
  if (!h.idx || !h.peak) {
    free(h.idx), free(h.peak);
    return qb_fail(err, "out of memory");
  }
  int rc = 0;
  for (size_t i = 0; i < nruns && !rc; i++) {
    rc = qb_run_index_build(&runs[i].rows, &h.idx[i], err);
    char* j = qb_run_roofline_json(&runs[i]);
    double dram;
    qb_roofline_peaks(j, &h.peak[i], &dram);
    free(j);
  }
  char plots[1100], dat[1200];
  snprintf(plots, sizeof plots, "%s/plots", opt->out_dir);
  if (!rc) rc = qb_mkdir_p(plots, err); /* and --out's missing parents */
  snprintf(path_out, path_size, "%s/hardware.md", opt->out_dir);
  if (!rc && !(h.f = fopen(path_out, "w"))) rc = qb_fail(err, "%s: cannot write", path_out);
  if (!rc) {
    snprintf(dat, sizeof dat, "%s/hardware_models.dat", plots);
    FILE* d = fopen(dat, "w");
    fprintf(h.f, "# qbench hardware: %zu runs\n\n", nruns);
    machines(&h);
    models(&h, d);
    kernels(&h);
    if (d) fclose(d);
    if (opt->plots && d && h.idx[0].nmodels) {
      char png[1200], svg[1200], vars[256];
      snprintf(png, sizeof png, "%s/hardware_models.png", plots);
      snprintf(svg, sizeof svg, "%s/hardware_models.svg", plots);
      snprintf(vars, sizeof vars, "nseries=%zu", 2 * (nruns - 1));
      rc = qb_gnuplot_render_vars("hardware.gp", dat, png, vars, err);
      if (!rc) rc = qb_gnuplot_render_vars("hardware.gp", dat, svg, vars, err);
      if (!rc)
        fprintf(h.f, "\n![model speed-up per machine](plots/hardware_models.png)\n"
                     "(vector: [plots/hardware_models.svg](plots/hardware_models.svg))\n");
    }
    if (fclose(h.f) && !rc) rc = qb_fail(err, "%s: write failed", path_out);
  }
  for (size_t i = 0; i < nruns; i++) qb_run_index_free(&h.idx[i]);
  free(h.idx);
  free(h.peak);
  return rc;
}
