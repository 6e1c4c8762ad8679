/* Where an int8 model's time goes (qb_report_time.h).
 *
 * The sweep's speed measurement writes one latency_median row per node it timed: the
 * quantized layers (kernel = the int8 kernel, e.g. qb_qu8_qs8_qs32_gemm_6x16c2__avx2),
 * the integer ops between them (kernel "int8 <Op>") and the fp32 ops (kernel
 * "fp32 <Op>[/...]"; on integer inputs an island: dequantize, the op, and the next
 * integer node quantizes again). Their sum falls short of the end-to-end median by
 * what no node owns: quantizing the graph input, dequantizing its outputs, the
 * per-node clock reads; and each node's median is taken over the repetitions on its
 * own, so on a noisy machine their sum can fall well below the end-to-end median. */
#include "qb_report_time.h"

#include <math.h>
#include <string.h>

#include "qb_report.h"

enum { PART_LAYERS, PART_INT_OPS, PART_FP32, PARTS, SLOWEST = 3 };

static int part_of(const char* kernel) {
  if (!strncmp(kernel, "int8 ", 5)) return PART_INT_OPS;
  if (!strncmp(kernel, "fp32", 4)) return PART_FP32;
  return PART_LAYERS;
}

/* The static item of `model` with the smallest end-to-end median at 1 thread. */
static const qb_result_row* fastest_static(const qb_run_data* run, const char* model) {
  const qb_result_row* best = NULL;
  for (size_t i = 0; i < run->rows.count; i++) {
    const qb_result_row* r = &run->rows.rows[i];
    if (strcmp(r->model, model) || strcmp(r->layer, model) || strcmp(r->workflow, "static") ||
        r->threads != 1 || strcmp(r->metric, "latency_median") || !isfinite(r->value))
      continue;
    if (!best || r->value < best->value) best = r;
  }
  return best;
}

static bool is_node_row(const qb_result_row* r, const qb_result_row* item) {
  return !strcmp(r->item_id, item->item_id) && strcmp(r->layer, item->model) &&
         r->threads == 1 && !strcmp(r->metric, "latency_median") && isfinite(r->value);
}

bool qb_report_time_breakdown(FILE* f, const qb_run_data* run, const char* model) {
  const qb_result_row* item = fastest_static(run, model);
  if (!item) return false;
  double part[PARTS] = {0};
  const qb_result_row* slow[SLOWEST] = {NULL};
  size_t nodes = 0;
  for (size_t i = 0; i < run->rows.count; i++) {
    const qb_result_row* r = &run->rows.rows[i];
    if (!is_node_row(r, item)) continue;
    nodes++;
    part[part_of(r->kernel)] += r->value;
    for (int s = 0; s < SLOWEST; s++)
      if (!slow[s] || r->value > slow[s]->value) {
        memmove(&slow[s + 1], &slow[s], (SLOWEST - 1 - s) * sizeof slow[0]);
        slow[s] = r;
        break;
      }
  }
  if (!part[PART_INT_OPS] && !part[PART_FP32]) return false; /* layers only: an older run */
  char label[256], t[32];
  qb_qconfig_label(item, label, sizeof label);
  qb_format_ns(item->value, t, sizeof t);
  fprintf(f, "\n### Where the time goes\n\n`%s` on %s, the fastest static item (%s per "
             "inference end to end, 1 thread), per node (%zu nodes timed):\n\n"
             "| part | time | share of end to end |\n| --- | ---: | ---: |\n",
          label, item->backend, t, nodes);
  static const char* const names[PARTS] = {
      "int8 layers (GEMM, conv, depthwise; requantization fused)",
      "integer ops between layers (pools, Add, Concat, reshapes)",
      "fp32 ops (on integer inputs: dequantize, op, requantize)"};
  double sum = 0;
  for (int p = 0; p < PARTS; p++) {
    qb_format_ns(part[p], t, sizeof t);
    fprintf(f, "| %s | %s | %.0f %% |\n", names[p], t, 100 * part[p] / item->value);
    sum += part[p];
  }
  /* Negative when the per-node medians add up to more than the end-to-end median. */
  const double rest = item->value - sum, share = 100 * rest / item->value;
  qb_format_ns(rest, t, sizeof t);
  fprintf(f, "| the rest (graph input / output conversion, timing hooks, noise) | %s | %.0f %% |\n", t,
          fabs(share) < 0.5 ? 0.0 : share);
  fputs("\nSlowest nodes:", f);
  for (int s = 0; s < SLOWEST && slow[s]; s++) {
    qb_format_ns(slow[s]->value, t, sizeof t);
    fprintf(f, "%s `%s` (%s) %s", s ? "," : "", slow[s]->layer, slow[s]->kernel, t);
  }
  fputs(".\n", f);
  return true;
}
