#include "qb_report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "qb_json_scan.h"
#include "qb_recommend_verify.h"
#include "qb_sweep_config.h"
#include "qb_kernel_table.h"
#include "qb_mann_whitney.h"
#include "qb_report_plots.h"
#include "qb_report_time.h"
#include "qb_results_files.h"
#include "qb_roofline_file.h"
#include "qb_run_index.h"

void qb_format_ns(double ns, char* buf, size_t size) {
  if (!isfinite(ns)) snprintf(buf, size, "—");
  else if (ns >= 1e6) snprintf(buf, size, "%.2f ms", ns / 1e6);
  else if (ns >= 1e3) snprintf(buf, size, "%.1f µs", ns / 1e3);
  else snprintf(buf, size, "%.0f ns", ns);
}

static void format_bytes(double b, char* buf, size_t size) {
  if (!isfinite(b)) snprintf(buf, size, "—");
  else if (b >= 1 << 20) snprintf(buf, size, "%.2f MiB", b / (1 << 20));
  else if (b >= 1 << 10) snprintf(buf, size, "%.1f KiB", b / (1 << 10));
  else snprintf(buf, size, "%.0f B", b);
}

static void md_escape(FILE* f, const char* s) {
  for (; *s; s++) {
    if (*s == '|') fputs("\\|", f);
    else fputc(*s, f);
  }
}

typedef struct {
  FILE* f;
  const qb_run_data* run;
  const qb_run_index* idx;
  const qb_report_options* opt;
  qb_plot_ctx plots;
  qb_report_summary* sum;
} report;

/* Inline image: PNG shown, SVG linked. */
static void image(report* r, const qb_plot_out* p, const char* alt) {
  if (!p->name[0]) return;
  fprintf(r->f, "\n![%s](plots/%s.png)\n(vector: [plots/%s.svg](plots/%s.svg))\n", alt, p->name,
          p->name, p->name);
  r->sum->plots++;
}

/* ---- the run ---------------------------------------------------------------------- */

/* Whose run the accuracy rows carry: items evaluated on their own backend, and items
 * of exact backends given a copy after their probe outputs matched (by backend). */
static void section_run_evaluation(report* r) {
  size_t own = 0, copied = 0, mismatched = 0;
  char from[64] = "";
  for (size_t i = 0; i < r->run->rows.count; i++) {
    const qb_result_row* row = &r->run->rows.rows[i];
    if (strcmp(row->metric, "accuracy")) continue;
    if (!strcmp(row->exact_check, "probe-match")) {
      copied++;
      if (!strstr(from, row->evaluated_on) && strlen(from) + strlen(row->evaluated_on) + 3 < sizeof from)
        snprintf(from + strlen(from), sizeof from - strlen(from), "%s%s", from[0] ? ", " : "",
                 row->evaluated_on);
    } else {
      own++;
      mismatched += !strcmp(row->exact_check, "probe-mismatch");
    }
  }
  if (!copied && !mismatched) return;
  fprintf(r->f, "| accuracy evaluated | %zu items on their own backend (%zu after a probe mismatch); "
                "%zu items of other exact backends carry the evaluation of %s, their outputs on "
                "the probe batch identical bit for bit (column `evaluated_on`) |\n",
          own, mismatched, copied, from);
}

static void section_run(report* r) {
  const qb_run_data* d = r->run;
  FILE* f = r->f;
  fprintf(f, "# qbench report: %s\n\n## The run\n\n| | |\n| --- | --- |\n", d->run_id);
  fprintf(f, "| started (UTC) | %s |\n", d->started_utc[0] ? d->started_utc : "?");
  char l2[32], l3[32];
  format_bytes(d->l2_bytes > 0 ? d->l2_bytes : NAN, l2, sizeof l2);
  format_bytes(d->l3_bytes > 0 ? d->l3_bytes : NAN, l3, sizeof l3);
  fprintf(f, "| machine | %s (%s); %d cores, %d hardware threads; L2 %s, L3 %s |\n",
          d->brand[0] ? d->brand : "not recorded", d->vendor[0] ? d->vendor : "?", d->cores,
          d->pus, l2, l3);
  fprintf(f, "| machine fingerprint | `%s` |\n| OS | %s |\n", d->fingerprint, d->os[0] ? d->os : "?");
  fprintf(f, "| build | %s, %s, revision `%s` |\n", d->compiler[0] ? d->compiler : "?",
          d->build_type[0] ? d->build_type : "?", d->git_revision[0] ? d->git_revision : "?");
  fprintf(f, "| backends usable | %s |\n", d->backends_usable[0] ? d->backends_usable : "?");
  fprintf(f, "| backends measured | ");
  for (int b = 0; b < r->idx->nbackends; b++) fprintf(f, "%s%s", b ? ", " : "", r->idx->backends[b]);
  size_t ncfg = 0;
  for (size_t m = 0; m < r->idx->nmodels; m++) ncfg += r->idx->models[m].ncfgs;
  fprintf(f, " |\n| contents | %zu result rows, %zu models, %zu qconfigs, %zu benchmark series |\n",
          d->rows.count, r->idx->nmodels, ncfg, d->ngbench);
  section_run_evaluation(r);
}

/* ---- findings ------------------------------------------------------------------------ */

typedef const char* (*attr_fn)(const qb_result_row* id, char* buf, size_t size);

static const char* attr_wbits(const qb_result_row* id, char* buf, size_t size) {
  snprintf(buf, size, "w%d", id->w_bits);
  return buf;
}
static const char* attr_wgran(const qb_result_row* id, char* buf, size_t size) {
  snprintf(buf, size, "%s", id->w_granularity);
  return buf;
}
static const char* attr_wrange(const qb_result_row* id, char* buf, size_t size) {
  snprintf(buf, size, "%s", id->w_range);
  return buf;
}
static const char* attr_arange(const qb_result_row* id, char* buf, size_t size) {
  if (!id->a_bits) return NULL;
  snprintf(buf, size, "%s", id->a_range);
  return buf;
}
/* The scheme columns carry storage, restricted range and rounding when not the default
 * (qb_result.h): "symmetric" vs "symmetric-mulrecip" is the rounding's effect. */
static const char* attr_wscheme(const qb_result_row* id, char* buf, size_t size) {
  snprintf(buf, size, "%s", id->w_scheme);
  return buf;
}
static const char* attr_ascheme(const qb_result_row* id, char* buf, size_t size) {
  if (!id->a_bits) return NULL;
  snprintf(buf, size, "%s", id->a_scheme);
  return buf;
}
static const char* attr_workflow(const qb_result_row* id, char* buf, size_t size) {
  snprintf(buf, size, "%s", id->workflow);
  return buf;
}

/* The qconfig's identity without one axis (attr): qconfigs with equal keys differ only
 * in that axis. Comparing workflows, the activation fields are left out too
 * (weight-only has none): the comparison is then "the same weights, activations
 * quantized or not". */
static void rest_key(const qb_result_row* id, attr_fn axis, char* key, size_t size) {
  static const attr_fn all[] = {attr_wbits, attr_wgran, attr_wrange, attr_arange,
                                attr_wscheme, attr_ascheme, attr_workflow};
  const bool acts = axis != attr_workflow;
  size_t len = (size_t)snprintf(key, size, "a%d/%s", acts ? id->a_bits : 0,
                                acts ? id->a_granularity : "");
  for (size_t i = 0; i < sizeof all / sizeof *all && len < size; i++) {
    char buf[48];
    const char* v = all[i] == axis || (!acts && (all[i] == attr_arange || all[i] == attr_ascheme))
                        ? "*" : all[i](id, buf, sizeof buf);
    len += (size_t)snprintf(key + len, size - len, "/%s", v ? v : "-");
  }
}

/* "what: A 0.31 pp (n=4, 1 significant), B 2.10 pp (n=4, 3 significant) over 4 matched
 * sets": the mean drop per value of one axis, best first, over the matched sets only
 * (qconfigs equal in everything but this axis, at least two of its values present),
 * so a grid that pairs a value with other settings than the rest (config `grids`)
 * does not confound the comparison; with how many of those drops are distinguishable
 * from fp32. Printed when at least two values are matched and at least one of their
 * drops is significant (otherwise it would rank noise). */
static void finding_axis(report* r, const qb_model_summary* m, const char* what, attr_fn attr) {
  enum { MAXV = 16, KEY = 400 };
  char keys[MAXV][48];
  double sum[MAXV];
  int cnt[MAXV], sig[MAXV], nk = 0, nsig = 0;
  size_t sets = 0;
  char (*rest)[KEY] = calloc(m->ncfgs ? m->ncfgs : 1, KEY);
  bool* done = calloc(m->ncfgs ? m->ncfgs : 1, sizeof *done);
  if (!rest || !done) {
    free(rest), free(done);
    return;
  }
  for (size_t i = 0; i < m->ncfgs; i++) rest_key(&m->cfgs[i].id, attr, rest[i], KEY);
  for (size_t i = 0; i < m->ncfgs; i++) {
    char bi[48], bj[48];
    const char* ki = attr(&m->cfgs[i].id, bi, sizeof bi);
    if (done[i] || !ki || !isfinite(m->cfgs[i].drop)) continue;
    /* The set of i: every qconfig with its rest key; used when two values meet. */
    bool matched = false;
    for (size_t j = i + 1; j < m->ncfgs && !matched; j++) {
      const char* kj = attr(&m->cfgs[j].id, bj, sizeof bj);
      matched = !strcmp(rest[i], rest[j]) && kj && strcmp(ki, kj) && isfinite(m->cfgs[j].drop);
    }
    if (!matched) continue;
    sets++;
    for (size_t j = i; j < m->ncfgs; j++) {
      if (done[j] || strcmp(rest[i], rest[j]) || !isfinite(m->cfgs[j].drop)) continue;
      const char* k = attr(&m->cfgs[j].id, bj, sizeof bj);
      if (!k) continue;
      done[j] = true;
      int v = 0;
      while (v < nk && strcmp(keys[v], k)) v++;
      if (v == nk) {
        if (nk == MAXV) continue;
        snprintf(keys[nk], sizeof keys[0], "%s", k);
        sum[nk] = 0;
        cnt[nk] = sig[nk] = 0;
        nk++;
      }
      sum[v] += m->cfgs[j].drop;
      cnt[v]++;
      const int d = qb_cfg_drop_direction(&m->cfgs[j]) != 0;
      sig[v] += d;
      nsig += d;
    }
  }
  free(rest), free(done);
  if (nk < 2 || !nsig) return;
  int order[MAXV];
  for (int i = 0; i < nk; i++) order[i] = i;
  for (int i = 1; i < nk; i++)
    for (int j = i; j > 0 && sum[order[j]] / cnt[order[j]] < sum[order[j - 1]] / cnt[order[j - 1]]; j--) {
      const int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  fprintf(r->f, "- %s, %s: mean drop ", m->name, what);
  for (int i = 0; i < nk; i++)
    fprintf(r->f, "%s%s %.2f pp (n=%d, %d significant)", i ? ", " : "", keys[order[i]],
            sum[order[i]] / cnt[order[i]], cnt[order[i]], sig[order[i]]);
  fprintf(r->f, " over %zu matched set%s (qconfigs equal but for this axis).\n", sets,
          sets == 1 ? "" : "s");
  r->sum->findings++;
}

/* "0.50 pp (95 % interval [-0.20, 1.30], p = 0.27)", or "0.50 pp" for a run without
 * paired statistics. */
static void format_drop(const qb_cfg_summary* c, char* buf, size_t size) {
  if (c->significant < 0 || !isfinite(c->drop_ci_low))
    snprintf(buf, size, "%.2f pp", c->drop);
  else
    snprintf(buf, size, "%.2f pp (95 %% interval [%.2f, %.2f], p = %.2g)", c->drop, c->drop_ci_low,
             c->drop_ci_high, c->mcnemar_p);
}

/* How many qconfigs drop significantly, how many cannot be told from fp32 (and of
 * those, how many are right on exactly the fp32 model's images), how many are
 * significantly above it; then the best supported claim among qconfigs with
 * discordant images: the one whose drop has the smallest upper bound ("loses at most
 * H pp"). With no discordant image the conditional interval is [0, 0], which bounds
 * nothing beyond this data set: such qconfigs are counted, not ranked. */
static void finding_significance(report* r, const qb_model_summary* m) {
  size_t worse = 0, same = 0, better = 0, known = 0, concordant = 0;
  const qb_cfg_summary* tight = NULL;
  for (size_t i = 0; i < m->ncfgs; i++) {
    const qb_cfg_summary* c = &m->cfgs[i];
    if (!isfinite(c->drop) || c->significant < 0) continue;
    known++;
    const int d = qb_cfg_drop_direction(c);
    worse += d > 0, same += d == 0, better += d < 0;
    if (c->discordant == 0) {
      concordant++;
      continue;
    }
    if (isfinite(c->drop_ci_high) && (!tight || c->drop_ci_high < tight->drop_ci_high)) tight = c;
  }
  if (!known) return;
  fprintf(r->f, "- %s: of %zu qconfigs, %zu drop significantly below fp32 (exact McNemar p < 0.05), "
                "%zu are not distinguishable from fp32 (%zu of them right on exactly the fp32 "
                "model's images), %zu are significantly above it.\n",
          m->name, known, worse, same, concordant, better);
  r->sum->findings++;
  if (!tight) return;
  char label[256], drop[128];
  qb_qconfig_label(&tight->id, label, sizeof label);
  format_drop(tight, drop, sizeof drop);
  fprintf(r->f, "- %s: smallest upper bound on the drop (qconfigs with discordant images): `%s` "
                "loses at most %.2f pp (drop %s).\n",
          m->name, label, tight->drop_ci_high, drop);
  r->sum->findings++;
}

/* Best accuracy, and the fastest qconfig within 1 pp on each model's fastest backend. */
/* Within 1 pp of fp32: the interval's upper end is (paired statistics), else the
 * measured drop is. */
static bool within_1pp(const qb_cfg_summary* c) {
  return c->significant >= 0 && isfinite(c->drop_ci_high) ? c->drop_ci_high <= 1.0 : c->drop <= 1.0;
}

static void finding_best(report* r, const qb_model_summary* m) {
  const qb_cfg_summary* best = NULL;
  bool paired = false;
  for (size_t i = 0; i < m->ncfgs; i++) {
    if (isfinite(m->cfgs[i].drop) && (!best || m->cfgs[i].drop < best->drop)) best = &m->cfgs[i];
    paired |= m->cfgs[i].significant >= 0;
  }
  if (!best) return;
  char label[256];
  qb_qconfig_label(&best->id, label, sizeof label);
  if (paired) {
    fprintf(r->f, "- %s: fp32 %s %.2f %%.\n", m->name, m->metric, m->accuracy_fp32);
    finding_significance(r, m);
  } else {
    fprintf(r->f, "- %s: fp32 %s %.2f %%; smallest drop %.2f pp with `%s` (no intervals: the "
                  "run has no paired statistics).\n", m->name, m->metric, m->accuracy_fp32, best->drop, label);
  }
  r->sum->findings++;
  const qb_cfg_summary* fast = NULL;
  int fast_b = -1;
  for (size_t i = 0; i < m->ncfgs; i++) {
    const qb_cfg_summary* c = &m->cfgs[i];
    if (!within_1pp(c)) continue;
    for (int b = 0; b < r->idx->nbackends; b++)
      if (isfinite(c->latency_ns[b]) && (!fast || c->latency_ns[b] < fast->latency_ns[fast_b]))
        fast = c, fast_b = b;
  }
  if (!fast) return;
  char t[32];
  qb_format_ns(fast->latency_ns[fast_b], t, sizeof t);
  qb_qconfig_label(&fast->id, label, sizeof label);
  char drop[128];
  format_drop(fast, drop, sizeof drop);
  fprintf(r->f, "- %s: fastest qconfig within 1 pp of fp32%s: `%s` on %s, %s per inference (drop %s).\n",
          m->name, paired ? " (the upper end of its 95 % interval)" : "", label,
          r->idx->backends[fast_b], t, drop);
  r->sum->findings++;
}

/* Backend speed-ups over scalar, geometric mean over qconfigs. */
static void finding_backends(report* r, const qb_model_summary* m) {
  const int s = qb_run_index_backend(r->idx, "scalar");
  if (s < 0) return;
  char text[512] = "";
  for (int b = 0; b < r->idx->nbackends; b++) {
    if (b == s) continue;
    double ls = 0;
    int n = 0;
    for (size_t i = 0; i < m->ncfgs; i++) {
      const double q = m->cfgs[i].latency_ns[s] / m->cfgs[i].latency_ns[b];
      if (isfinite(q) && q > 0) ls += log(q), n++;
    }
    const size_t u = strlen(text);
    if (n)
      snprintf(text + u, sizeof text - u, "%s%s %.2fx (n=%d)", u ? ", " : "", r->idx->backends[b],
               exp(ls / n), n);
  }
  if (!text[0]) return;
  fprintf(r->f, "- %s, end-to-end speed-up over scalar (geometric mean over qconfigs): %s.\n",
          m->name, text);
  r->sum->findings++;
}

/* What quantization buys over qbench's own fp32 baseline (the fp32 FMA GEMM runtime,
 * batch 1, 1 thread): per workflow, the best end-to-end speed-up and where it was
 * measured. Both sides run in the same process, so the ratio holds on a noisy machine. */
static void finding_fp32_speedup(report* r, const qb_model_summary* m) {
  if (!isfinite(m->latency_fp32_ns)) return;
  const char* seen[8];
  int nseen = 0;
  char text[768] = "";
  for (size_t i = 0; i < m->ncfgs && nseen < 8; i++) {
    const char* wf = m->cfgs[i].id.workflow;
    bool dup = false;
    for (int k = 0; k < nseen; k++) dup |= !strcmp(seen[k], wf);
    if (dup) continue;
    seen[nseen++] = wf;
    const qb_cfg_summary* best = NULL;
    int best_b = -1;
    for (size_t j = 0; j < m->ncfgs; j++) {
      const qb_cfg_summary* c = &m->cfgs[j];
      if (strcmp(c->id.workflow, wf)) continue;
      for (int b = 0; b < r->idx->nbackends; b++)
        if (isfinite(c->speedup_fp32[b]) && (!best || c->speedup_fp32[b] > best->speedup_fp32[best_b]))
          best = c, best_b = b;
    }
    if (!best) continue;
    char label[128];
    qb_qconfig_short(&best->id, label, sizeof label);
    const size_t u = strlen(text);
    snprintf(text + u, sizeof text - u, "%s%s %.2fx (`%s` on %s)", u ? ", " : "", wf,
             best->speedup_fp32[best_b], label, r->idx->backends[best_b]);
  }
  if (!text[0]) return;
  char t[32];
  qb_format_ns(m->latency_fp32_ns, t, sizeof t);
  fprintf(r->f, "- %s, best end-to-end speed-up over the fp32 baseline (`%s`, %s per inference, "
          "1 thread): %s.\n", m->name, m->fp32_kernel[0] ? m->fp32_kernel : "fp32", t, text);
  r->sum->findings++;
}

/* The static PTQ item a qat item is compared with: the same weights and activation
 * grid, calibrated with the range qat deploys with (movavg) if the run has it, else
 * with min-max (the usual PTQ baseline). */
static const qb_cfg_summary* ptq_twin(const qb_model_summary* m, const qb_result_row* q) {
  const qb_cfg_summary* minmax = NULL;
  for (size_t i = 0; i < m->ncfgs; i++) {
    const qb_result_row* s = &m->cfgs[i].id;
    if (strcmp(s->workflow, "static") || s->w_bits != q->w_bits || s->a_bits != q->a_bits ||
        strcmp(s->w_scheme, q->w_scheme) || strcmp(s->w_granularity, q->w_granularity) ||
        strcmp(s->w_range, q->w_range) || strcmp(s->a_scheme, q->a_scheme) ||
        !isfinite(m->cfgs[i].drop))
      continue;
    if (!strcmp(s->a_range, q->a_range)) return &m->cfgs[i];
    if (!strcmp(s->a_range, "minmax")) minmax = &m->cfgs[i];
  }
  return minmax;
}

/* QAT against static PTQ on the same grid, where PTQ lost at least 0.5 pp: the share
 * of the PTQ drop fine-tuning recovered (median), and the grid where PTQ lost most. */
static void finding_qat(report* r, const qb_model_summary* m) {
  enum { MAXQ = 64 };
  double share[MAXQ];
  int n = 0;
  const qb_cfg_summary *worst = NULL, *worst_ptq = NULL;
  for (size_t i = 0; i < m->ncfgs && n < MAXQ; i++) {
    const qb_cfg_summary* q = &m->cfgs[i];
    if (strcmp(q->id.workflow, "qat") || !isfinite(q->drop)) continue;
    const qb_cfg_summary* p = ptq_twin(m, &q->id);
    if (!p || p->drop < 0.5 || qb_cfg_drop_direction(p) <= 0) continue;
    share[n++] = (p->drop - q->drop) / p->drop;
    if (!worst_ptq || p->drop > worst_ptq->drop) worst = q, worst_ptq = p;
  }
  if (!n) return;
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && share[j] < share[j - 1]; j--) {
      const double t = share[j];
      share[j] = share[j - 1], share[j - 1] = t;
    }
  const double median = n % 2 ? share[n / 2] : 0.5 * (share[n / 2 - 1] + share[n / 2]);
  char label[128];
  qb_qconfig_short(&worst->id, label, sizeof label);
  fprintf(r->f, "- %s, QAT vs static PTQ on the same grid (%d grids where PTQ lost >= 0.5 pp, significantly): "
          "recovers a median %.0f %% of the PTQ drop; largest PTQ drop `%s` (PTQ %s): "
          "%.2f pp -> %.2f pp after QAT.\n",
          m->name, n, 100 * median, label, worst_ptq->id.a_range, worst_ptq->drop, worst->drop);
  r->sum->findings++;
}

static void section_summary(report* r) {
  fputs("\n## Summary\n\n", r->f);
  if (!r->idx->nmodels) fputs("This run has no result rows.\n", r->f);
  for (size_t k = 0; k < r->idx->nmodels; k++) {
    const qb_model_summary* m = &r->idx->models[k];
    finding_best(r, m);
    finding_axis(r, m, "weight bits", attr_wbits);
    finding_axis(r, m, "weight granularity", attr_wgran);
    finding_axis(r, m, "weight scheme (storage, restricted, rounding)", attr_wscheme);
    finding_axis(r, m, "activation scheme (storage, restricted, rounding)", attr_ascheme);
    finding_axis(r, m, "weight range strategy", attr_wrange);
    finding_axis(r, m, "activation range strategy", attr_arange);
    finding_axis(r, m, "workflow", attr_workflow);
    finding_qat(r, m);
    finding_backends(r, m);
    finding_fp32_speedup(r, m);
  }
}

/* ---- per model --------------------------------------------------------------------- */

static int cmp_drop(const void* a, const void* b) {
  const double x = (*(const qb_cfg_summary* const*)a)->drop, y = (*(const qb_cfg_summary* const*)b)->drop;
  if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
  return (x > y) - (x < y);
}

static void model_table(report* r, const qb_model_summary* m) {
  FILE* f = r->f;
  fputs("\n| qconfig | drop (pp) | 95 % interval | McNemar p | agreement | KL p99 | Δp(true) RMS | ", f);
  for (int b = 0; b < r->idx->nbackends; b++) fprintf(f, "latency %s | ", r->idx->backends[b]);
  fputs("weights | eff. bits |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ", f);
  for (int b = 0; b < r->idx->nbackends; b++) fputs("---: | ", f);
  fputs("---: | ---: |\n", f);
  const qb_cfg_summary** order = malloc((m->ncfgs + 1) * sizeof *order);
  if (!order) return;
  for (size_t i = 0; i < m->ncfgs; i++) order[i] = &m->cfgs[i];
  qsort(order, m->ncfgs, sizeof *order, cmp_drop);
  for (size_t i = 0; i < m->ncfgs; i++) {
    const qb_cfg_summary* c = order[i];
    char label[256], t[32];
    qb_qconfig_label(&c->id, label, sizeof label);
    fputs("| ", f);
    md_escape(f, label);
    if (isfinite(c->drop)) fprintf(f, " | %.2f%s", c->drop, c->significant > 0 ? " *" : "");
    else fputs(" | —", f);
    if (isfinite(c->drop_ci_low)) fprintf(f, " | [%.2f, %.2f]", c->drop_ci_low, c->drop_ci_high);
    else fputs(" | —", f);
    if (isfinite(c->mcnemar_p)) fprintf(f, " | %.2g", c->mcnemar_p);
    else fputs(" | —", f);
    if (isfinite(c->agreement)) fprintf(f, " | %.2f %%", c->agreement);
    else fputs(" | —", f);
    if (isfinite(c->kl_p99)) fprintf(f, " | %.3g", c->kl_p99);
    else fputs(" | —", f);
    if (isfinite(c->true_prob_rms)) fprintf(f, " | %.3g", c->true_prob_rms);
    else fputs(" | —", f);
    for (int b = 0; b < r->idx->nbackends; b++) {
      qb_format_ns(c->latency_ns[b], t, sizeof t);
      fprintf(f, " | %s", t);
    }
    format_bytes(c->bytes_weights, t, sizeof t);
    fprintf(f, " | %s", t);
    if (isfinite(c->eff_bits)) fprintf(f, " | %.2f |\n", c->eff_bits);
    else fputs(" | — |\n", f);
  }
  free(order);
}

typedef struct {
  const qb_result_row* row;
} sens;

static int cmp_sens(const void* a, const void* b) {
  const double x = ((const sens*)a)->row->value, y = ((const sens*)b)->row->value;
  return (x < y) - (x > y);
}

/* The top 5 (layer, qconfig) by sensitivity, on one backend (scalar if measured:
 * bit-exact backends agree, so other backends would only repeat the rows). */
static void sensitive_layers(report* r, const qb_model_summary* m) {
  size_t n = 0;
  sens* s = malloc((r->run->rows.count + 1) * sizeof *s);
  if (!s) return;
  const char* backend = NULL;
  for (size_t i = 0; i < r->run->rows.count; i++) {
    const qb_result_row* row = &r->run->rows.rows[i];
    if (!strcmp(row->model, m->name) && !strcmp(row->metric, "sensitivity_only") &&
        (!backend || !strcmp(row->backend, "scalar")))
      backend = row->backend;
  }
  for (size_t i = 0; i < r->run->rows.count && backend; i++) {
    const qb_result_row* row = &r->run->rows.rows[i];
    if (!strcmp(row->model, m->name) && !strcmp(row->metric, "sensitivity_only") &&
        !strcmp(row->backend, backend) && isfinite(row->value))
      s[n++].row = row;
  }
  if (n) {
    qsort(s, n, sizeof *s, cmp_sens);
    fprintf(r->f, "\nMost sensitive layers (%s drop with only that layer quantized):\n\n"
            "| layer | qconfig | backend | drop (pp) |\n| --- | --- | --- | ---: |\n", m->metric);
    for (size_t i = 0; i < n && i < 5; i++) {
      char label[256];
      qb_qconfig_label(s[i].row, label, sizeof label);
      fprintf(r->f, "| %s | %s | %s | %.2f |\n", s[i].row->layer, label, s[i].row->backend,
              s[i].row->value);
    }
  }
  free(s);
}

static int section_model(report* r, const qb_model_summary* m, qb_error* err) {
  fprintf(r->f, "\n## Model %s\n\n", m->name);
  /* What was measured: file, task and metric, data, calibration, preprocessing. */
  char what[3 * QB_SWEEP_PATH_MAX + 512];
  qb_error derr;
  if (qb_run_model_describe(r->run, m->name, what, sizeof what, &derr) == 0) fprintf(r->f, "%s.\n\n", what);
  /* The task's metric (qb_task.h): every accuracy and drop of this model is in it. */
  if (strcmp(m->metric, "top-1")) fprintf(r->f, "Task metric: **%s** (accuracy and drop below are in it). ", m->metric);
  if (isfinite(m->accuracy_fp32))
    fprintf(r->f, "fp32 %s%s: **%.2f %%**. ", m->metric, strcmp(m->metric, "top-1") ? "" : " accuracy",
            m->accuracy_fp32);
  fprintf(r->f, "%zu qconfigs, sorted by accuracy drop (`*`: significantly different from fp32, "
                "exact McNemar p < 0.05); latency is the end-to-end median per inference, 1 thread.\n",
          m->ncfgs);
  model_table(r, m);
  qb_plot_out p;
  if (qb_plot_pareto(&r->plots, r->idx, m, false, &p, err)) return -1;
  image(r, &p, "Pareto: drop vs latency");
  if (qb_plot_pareto(&r->plots, r->idx, m, true, &p, err)) return -1;
  image(r, &p, "Pareto: drop vs bytes");
  if (qb_plot_backends(&r->plots, r->idx, m, &p, err)) return -1;
  image(r, &p, "speed-up over scalar per backend");
  qb_report_time_breakdown(r->f, r->run, m->name);
  if (qb_plot_layer_sqnr(&r->plots, r->run, m->name, &p, err)) return -1;
  if (p.name[0]) fprintf(r->f, "\n### Per-layer SQNR\n");
  image(r, &p, "per-layer SQNR");
  fprintf(r->f, "\n### Sensitivity\n");
  sensitive_layers(r, m);
  if (qb_plot_sensitivity(&r->plots, r->run, m->name, &p, err)) return -1;
  image(r, &p, "sensitivity per layer");
  return 0;
}

/* ---- kernel benchmarks --------------------------------------------------------------- */

static char* load_roofline(report* r) {
  if (r->opt->roofline) return qb_read_text_file(r->opt->roofline, NULL);
  return qb_run_roofline_json(r->run);
}

/* Per kernel family: GOPS of every variant and peer per shape, and the best
 * variant's speed-up over the scalar reference and over oneDNN. */
static int section_kernel_families(report* r, qb_error* err) {
  qb_kernel_table* t = malloc(QB_KT_MAX_FAMILIES * sizeof *t);
  if (!t) return qb_fail(err, "out of memory");
  const int nt = qb_kernel_tables(r->run, t, QB_KT_MAX_FAMILIES);
  FILE* f = r->f;
  if (nt) fputs("\n### Backend comparison per kernel family (GOPS, 1 thread)\n", f);
  for (int k = 0; k < nt; k++) {
    const qb_kernel_table* T = &t[k];
    int scalar = -1, dnnl = -1;
    for (int c = 0; c < T->ncols; c++) {
      if (!strcmp(T->cols[c], "scalar")) scalar = c;
      if (!strcmp(T->cols[c], "oneDNN")) dnnl = c;
    }
    fprintf(f, "\n`%s`\n\n| shape |", T->family);
    for (int c = 0; c < T->ncols; c++) fprintf(f, " %s |", T->cols[c]);
    fputs(" best (ours) | vs scalar | vs oneDNN |\n| --- |", f);
    for (int c = 0; c < T->ncols + 3; c++) fputs(" ---: |", f);
    fputc('\n', f);
    for (int rr = 0; rr < T->nrows; rr++) {
      fprintf(f, "| %s |", T->rows[rr]);
      int best = -1;
      for (int c = 0; c < T->ncols; c++) {
        const double g = T->gops[rr][c];
        if (isfinite(g)) fprintf(f, " %.2f |", g);
        else fputs(" — |", f);
        if (c < T->ncols - T->npeer_cols && isfinite(g) && (best < 0 || g > T->gops[rr][best])) best = c;
      }
      if (best < 0) {
        fputs(" — | — | — |\n", f);
        continue;
      }
      const double b = T->gops[rr][best];
      fprintf(f, " %s |", T->cols[best]);
      if (scalar >= 0 && isfinite(T->gops[rr][scalar])) fprintf(f, " %.1fx |", b / T->gops[rr][scalar]);
      else fputs(" — |", f);
      if (dnnl >= 0 && isfinite(T->gops[rr][dnnl])) fprintf(f, " %.2fx |\n", b / T->gops[rr][dnnl]);
      else fputs(" — |\n", f);
    }
  }
  free(t);
  qb_plot_out p;
  if (qb_plot_kernels(&r->plots, r->run, &p, err)) return -1;
  image(r, &p, "kernel rate per backend");
  return 0;
}

/* One table cell: v / scale with `digits` decimals, or a dash if not measured. */
static void put_number(FILE* f, double v, int digits, double scale) {
  if (isfinite(v)) fprintf(f, "%.*f | ", digits, v / scale);
  else fputs("— | ", f);
}

static int section_kernels(report* r, qb_error* err) {
  if (!r->run->ngbench) return 0;
  FILE* f = r->f;
  fprintf(f, "\n## Kernel benchmarks (gbench.json)\n\nGOPS of the elementwise kernels (quantize, "
             "dequantize, requantize) are G elements/s; ops/byte is the arithmetic intensity "
             "that places each benchmark on the roofline.\n\n"
             "| benchmark | backend | median time | reps | GOPS | %% of peak | GB/s | ops/byte | %% of DRAM BW |\n"
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (size_t i = 0; i < r->run->ngbench; i++) {
    const qb_gbench_series* g = &r->run->gbench[i];
    char t[32];
    qb_format_ns(qb_median(g->ns, g->count), t, sizeof t);
    fprintf(f, "| `%s` | %s | %s | %zu | ", g->name, g->label[0] ? g->label : "—", t, g->count);
    put_number(f, g->ops_per_s, 2, 1e9);
    put_number(f, g->pct_of_peak, 1, 1.0);
    put_number(f, g->bytes_per_s, 2, 1e9);
    put_number(f, g->ops_per_s / g->bytes_per_s, 3, 1.0);
    put_number(f, g->pct_of_dram_bw, 1, 1.0);
    fputc('\n', f);
  }
  char* roof = load_roofline(r);
  const bool have_roof = roof != NULL;
  qb_plot_out p;
  const int rc = qb_plot_roofline(&r->plots, r->run, roof, &p, err);
  free(roof);
  if (rc) return -1;
  if (p.name[0] && !have_roof)
    fputs("\n(no roofline measurement found for this machine: ceilings not drawn; run `qbench bench` once)\n", f);
  image(r, &p, "roofline");
  return section_kernel_families(r, err);
}

/* ---- worth a look --------------------------------------------------------------------- */

static void warn(report* r, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(report* r, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("- ", r->f);
  vfprintf(r->f, fmt, ap);
  fputc('\n', r->f);
  va_end(ap);
  r->sum->warnings++;
}

/* Sum of a per-layer metric for a qconfig on one backend (a fingerprint of its ranges). */
static double layer_sum(const qb_run_data* run, const qb_result_row* id, const char* metric) {
  double s = 0;
  int n = 0;
  for (size_t i = 0; i < run->rows.count; i++) {
    const qb_result_row* r = &run->rows.rows[i];
    if (strcmp(r->metric, metric) || qb_row_is_end_to_end(r) || !qb_same_qconfig(r, id)) continue;
    s += r->value * (double)(n + 1);
    n++;
  }
  return n ? s : NAN;
}

static bool differ_only_in_range(const qb_result_row* a, const qb_result_row* b) {
  qb_result_row x = *a, y = *b;
  const bool differ = strcmp(x.w_range, y.w_range) || strcmp(x.a_range, y.a_range);
  snprintf(x.w_range, sizeof x.w_range, "-");
  snprintf(y.w_range, sizeof y.w_range, "-");
  snprintf(x.a_range, sizeof x.a_range, "-");
  snprintf(y.a_range, sizeof y.a_range, "-");
  return differ && qb_same_qconfig(&x, &y);
}

static void identical_ranges(report* r, const qb_model_summary* m) {
  int shown = 0;
  for (size_t i = 0; i < m->ncfgs; i++) {
    const double si = layer_sum(r->run, &m->cfgs[i].id, "sqnr");
    if (isnan(si)) continue;
    for (size_t j = i + 1; j < m->ncfgs; j++) {
      const qb_cfg_summary *a = &m->cfgs[i], *b = &m->cfgs[j];
      if (!differ_only_in_range(&a->id, &b->id) || a->accuracy != b->accuracy) continue;
      if (layer_sum(r->run, &b->id, "sqnr") != si) continue;
      if (shown++ < 5) {
        char la[256], lb[256];
        qb_qconfig_label(&a->id, la, sizeof la);
        qb_qconfig_label(&b->id, lb, sizeof lb);
        warn(r, "%s: `%s` and `%s` give identical accuracy and per-layer SQNR: the range "
                "strategies chose the same ranges (or one is not applied).", m->name, la, lb);
      }
    }
  }
}

/* Output channels whose int32 bias was saturated (metric bias_saturated): the
 * integer run adds a different bias than the float model there. */
static void bias_saturation(report* r) {
  double total = 0;
  const qb_result_row* worst = NULL;
  for (size_t i = 0; i < r->run->rows.count; i++) {
    const qb_result_row* row = &r->run->rows.rows[i];
    if (strcmp(row->metric, "bias_saturated") || !(row->value > 0)) continue;
    total += row->value;
    if (!worst || row->value > worst->value) worst = row;
  }
  if (!worst) return;
  char label[256];
  qb_qconfig_label(worst, label, sizeof label);
  warn(r, "int32 bias saturated in %.0f output channels in total; most in %s layer %s (`%s`, %s): "
       "%.0f.", total, worst->model, worst->layer, label, worst->backend, worst->value);
}

/* Items of exact backends whose probe outputs differed from their class's evaluated
 * backend (exact_check probe-mismatch): evaluated fully, and a kernel claiming
 * exactness that does not have it. */
static void probe_mismatches(report* r) {
  size_t items = 0;
  const qb_result_row* first = NULL;
  const char* last_item = "";
  for (size_t i = 0; i < r->run->rows.count; i++) {
    const qb_result_row* row = &r->run->rows.rows[i];
    if (strcmp(row->exact_check, "probe-mismatch") || !strcmp(row->item_id, last_item)) continue;
    last_item = row->item_id;
    items++;
    if (!first) first = row;
  }
  if (first)
    warn(r, "%zu items of exact backends did not reproduce their qconfig's evaluated backend on "
         "the probe batch (exact_check probe-mismatch; evaluated fully), e.g. `%s`: a kernel "
         "marked exact is not.", items, first->item_id);
}

static void section_worth_a_look(report* r) {
  fputs("\n## Worth a look\n\n", r->f);
  const int before = r->sum->warnings;
  for (size_t k = 0; k < r->idx->nmodels; k++) {
    const qb_model_summary* m = &r->idx->models[k];
    if (isnan(m->accuracy_fp32)) warn(r, "%s: no fp32 accuracy recorded (drops cannot be computed).", m->name);
    for (size_t i = 0; i < m->ncfgs; i++) {
      const qb_cfg_summary* c = &m->cfgs[i];
      char label[256];
      qb_qconfig_label(&c->id, label, sizeof label);
      for (int b = 0; b < r->idx->nbackends; b++)
        if (c->latency_cv[b] > 0.05)
          warn(r, "%s `%s` on %s: latency CV %.1f %% (> 5 %%): noisy timing, compare with care.",
               m->name, label, r->idx->backends[b], 100 * c->latency_cv[b]);
      if (c->acc_spread > 0)
        warn(r, "%s `%s`: accuracy differs between backends by %.2f pp (a backend is not "
                "bit-exact, e.g. avx2-sat's int16 saturation).", m->name, label, c->acc_spread);
      if (qb_cfg_drop_direction(c) < 0 && (c->significant > 0 || c->drop < -0.5)) {
        char drop[128];
        format_drop(c, drop, sizeof drop);
        warn(r, "%s `%s`: quantized accuracy is significantly above fp32 (drop %s): check the "
                "evaluation split and the fp32 reference.", m->name, label, drop);
      }
    }
    identical_ranges(r, m);
  }
  probe_mismatches(r);
  double clipped = 0;
  const qb_result_row* worst = NULL;
  for (size_t i = 0; i < r->run->rows.count; i++) {
    const qb_result_row* row = &r->run->rows.rows[i];
    if (strcmp(row->metric, "clipped") || !(row->value > 0)) continue;
    clipped += row->value;
    if (!worst || row->value > worst->value) worst = row;
  }
  if (worst) {
    char label[256];
    qb_qconfig_label(worst, label, sizeof label);
    warn(r, "saturation: %.0f values clipped in total; most in %s layer %s (`%s`, %s): %.0f.", clipped,
         worst->model, worst->layer, label, worst->backend, worst->value);
  }
  bias_saturation(r);
  if (r->sum->warnings == before) fputs("Nothing suspicious found.\n", r->f);
}

static void section_howto(report* r) {
  fputs("\n## How to read this report\n\n"
        "- **drop** is the fp32 task metric minus the quantized one, in percentage points (lower is "
        "better); the metric is top-1 for classifiers, exact-match line accuracy for text "
        "recognition (ocr-rec), F1 at IoU >= 0.5 for text detection (ocr-det), argmax agreement "
        "with fp32 for label-free models (outputs); each model's section names its own. "
        "**agreement** is the share of inputs where the quantized model's prediction (class, "
        "decoded line, box set) is the fp32 model's.\n"
        "- Both models see the same images, so a drop is decided by the images one gets right and the "
        "other wrong (lost, gained): drop = (lost - gained) / images. **McNemar p** is the exact test "
        "of lost vs gained (binomial, p = 1/2); the **95 % interval** is the exact conditional "
        "(Clopper-Pearson) interval of the drop given lost + gained. A drop marked `*` (p < 0.05, the "
        "interval excludes 0) is a real difference on this data; any other is **not distinguishable "
        "from fp32**, whatever its sign, and the summary claims nothing about it. Paired statistics "
        "exist for classification tasks (classification, ocr-cls) only.\n"
        "- **KL p99** is the 99th percentile over images of KL(fp32 ‖ quantized) of the softmax "
        "outputs (nats; median, p90 and max are in the results); **Δp(true) RMS** is the root mean "
        "square change of the true class's probability.\n"
        "- **latency** is the median over the sweep's repetitions of one end-to-end inference on "
        "one thread; compare backends within this run (absolute times drift between runs).\n"
        "- **Where the time goes** splits the fastest static item's per-node times into the int8 "
        "layers, the integer ops between them and the fp32 ops a deployment runtime also runs in "
        "fp32 (Softmax, LayerNorm, Erf, ...): where an int8 model's speed-up over fp32 is small, "
        "this says whether the fp32 part or the int8 kernels hold it back.\n"
        "- **Pareto plots**: a qconfig is on the front (line, labelled) when no other is both faster "
        "(or smaller) and more accurate. Labels: `st`/`dyn`/`wo` = static/dynamic/weight-only, "
        "`w8s.ch.minmax` = 8-bit symmetric per-channel weights with min-max ranges "
        "(`a` affine, `t` per tensor, `g32` groups of 32).\n"
        "- **Per-layer SQNR** is measured on the quantized model's activations vs fp32 (dB, higher "
        "is better; every 6 dB is about one bit).\n"
        "- **Sensitivity** is the drop with only that layer quantized: quantize those layers last "
        "(or keep them in float) in a mixed-precision plan (`qbench recommend`).\n"
        "- Each PNG has an SVG twin next to it; the plot data is in `plots/*.dat`.\n", r->f);
}

/* ---- entry -------------------------------------------------------------------------- */

int qb_report_write(const qb_run_data* run, const char* out_dir, const qb_report_options* opt,
                    qb_report_summary* summary, qb_error* err) {
  memset(summary, 0, sizeof *summary);
  char plots_dir[1100], tmp[1200];
  snprintf(plots_dir, sizeof plots_dir, "%s/plots", out_dir);
  if (qb_mkdir_p(plots_dir, err)) return -1;
  qb_run_index idx;
  if (qb_run_index_build(&run->rows, &idx, err)) return -1;
  snprintf(summary->path, sizeof summary->path, "%s/report.md", out_dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", summary->path);
  FILE* f = fopen(tmp, "w");
  if (!f) {
    qb_run_index_free(&idx);
    return qb_fail(err, "%s: cannot write: %s", tmp, strerror(errno));
  }
  report r = {f, run, &idx, opt, {plots_dir, opt->plots}, summary};
  section_run(&r);
  section_summary(&r);
  int rc = 0;
  for (size_t k = 0; k < idx.nmodels && !rc; k++) rc = section_model(&r, &idx.models[k], err);
  if (!rc) rc = section_kernels(&r, err);
  if (!rc) {
    section_worth_a_look(&r);
    section_howto(&r);
  }
  qb_run_index_free(&idx);
  if (fclose(f) && !rc) rc = qb_fail(err, "%s: write failed", tmp);
  if (!rc && rename(tmp, summary->path)) rc = qb_fail(err, "%s: cannot rename: %s", summary->path, strerror(errno));
  if (rc) remove(tmp);
  return rc;
}
