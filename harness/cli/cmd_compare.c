/* qbench compare BASE CURRENT: the nightly regression gate (harness/compare). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_cli.h"
#include "qb_file.h"
#include "qb_compare.h"

void qb_cmd_compare_help(void) {
  printf(
      "usage: qbench compare BASE CURRENT [options]\n\n"
      "Compares two runs and exits 1 if CURRENT regressed against BASE. A run is a run\n"
      "folder (results.csv, run.json, predictions/, optional gbench.json from qbench\n"
      "bench --json) or a run id in the SQLite history (--db).\n\n"
      "Rows are matched on model, layer, backend, workflow, qconfig, threads and metric;\n"
      "Google Benchmark series on their name.\n"
      "  speed     latency repetitions (latency_sample rows, gbench iterations): two-sided\n"
      "            Mann-Whitney U test; a regression needs p < alpha AND the median and the\n"
      "            fastest repetition both slower by more than --speed-threshold (noise on a\n"
      "            shared machine shifts the median, not the minimum). Only compared on\n"
      "            the same machine fingerprint.\n"
      "  accuracy  accuracy/agreement lower, or drop higher: exact McNemar test on the\n"
      "            item's per-sample predictions (images lost vs gained); a regression\n"
      "            needs p < alpha AND a loss above --accuracy-pp (runs without\n"
      "            predictions: the loss alone); bit-identical predictions are reported\n"
      "  sqnr      sqnr/shadow_sqnr lower by more than --sqnr-db\n"
      "  bytes     bytes_weights/bytes_arena: any growth\n\n"
      "options:\n"
      "  --db FILE              history for run ids (default results/qbench.db)\n"
      "  --alpha P              significance level, speed and accuracy (default 0.05)\n"
      "  --speed-threshold PCT  slowdown that matters, percent (default 5)\n"
      "  --accuracy-pp X        accuracy loss that matters, percentage points (default 0.5)\n"
      "  --sqnr-db X            SQNR loss that matters, dB (default 1)\n"
      "  --any-machine          compare speed even when the machine fingerprints differ\n"
      "  --relative             judge speed as each repetition's ratio to the fp32 model\n"
      "                         timed in the same round (latency_rel_sample), not raw\n"
      "                         times: for machines whose speed drifts for seconds\n"
      "  --md FILE              write the Markdown report to FILE (default: stdout)\n"
      "  --json FILE            also write the comparison as JSON\n"
      "  --all                  list every compared entry, not only changes\n"
      "  -h, --help             this help\n\n"
      "exit status: 0 no regression, 1 regression found, 2 usage error, unreadable run or\n"
      "nothing in common to compare\n");
}

static int parse_double(const char* s, double lo, double hi, double* out) {
  char* end;
  const double v = strtod(s, &end);
  if (!*s || *end || !(v >= lo && v <= hi)) return -1;
  *out = v;
  return 0;
}

typedef struct {
  qb_compare_options opt;
  const char* db;
  const char* md;
  const char* json;
  bool all;
  const char* base;
  const char* current;
} compare_args;

static int parse_args(int argc, char** argv, compare_args* a) {
  static const struct option opts[] = {
      {"db", required_argument, 0, 'd'},      {"alpha", required_argument, 0, 'a'},
      {"speed-threshold", required_argument, 0, 's'},
      {"accuracy-pp", required_argument, 0, 'p'}, {"sqnr-db", required_argument, 0, 'q'},
      {"any-machine", no_argument, 0, 'm'},   {"relative", no_argument, 0, 'r'},
      {"md", required_argument, 0, 'o'},
      {"json", required_argument, 0, 'j'},    {"all", no_argument, 0, 'A'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  memset(a, 0, sizeof *a);
  qb_compare_options_default(&a->opt);
  a->db = "results/qbench.db";
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'd': a->db = optarg; break;
      case 'a':
        if (parse_double(optarg, 1e-12, 1, &a->opt.alpha))
          return qb_cli_usage_error("compare", "--alpha '%s': expected a probability in (0, 1]", optarg);
        break;
      case 's':
        if (parse_double(optarg, 0, 1e6, &a->opt.speed_threshold))
          return qb_cli_usage_error("compare", "--speed-threshold '%s': expected a percentage >= 0", optarg);
        a->opt.speed_threshold /= 100;
        break;
      case 'p':
        if (parse_double(optarg, 0, 100, &a->opt.accuracy_pp))
          return qb_cli_usage_error("compare", "--accuracy-pp '%s': expected 0..100", optarg);
        break;
      case 'q':
        if (parse_double(optarg, 0, 1000, &a->opt.sqnr_db))
          return qb_cli_usage_error("compare", "--sqnr-db '%s': expected a number of dB >= 0", optarg);
        break;
      case 'm': a->opt.any_machine = true; break;
      case 'r': a->opt.relative = true; break;
      case 'o': a->md = optarg; break;
      case 'j': a->json = optarg; break;
      case 'A': a->all = true; break;
      case 'h': qb_cmd_compare_help(); return -1;
      default: return qb_cli_usage_error("compare", "see qbench compare --help");
    }
  }
  if (optind != argc - 2)
    return qb_cli_usage_error("compare", "expected BASE and CURRENT (see qbench compare --help)");
  a->base = argv[optind];
  a->current = argv[optind + 1];
  return 0;
}

static int write_outputs(const compare_args* a, const qb_compare_result* r, const qb_run_data* b,
                         const qb_run_data* c) {
  qb_error err;
  FILE* md = a->md ? fopen(a->md, "w") : stdout;
  if (!md) return qb_cli_usage_error("compare", "--md: cannot write '%s'", a->md);
  qb_compare_write_markdown(md, r, b, c, &a->opt, a->all);
  if (a->md && qb_close_output(md, a->md, &err)) return qb_cli_usage_error("compare", "--md: %s", err.msg);
  if (a->json) {
    FILE* f = fopen(a->json, "w");
    if (!f) return qb_cli_usage_error("compare", "--json: cannot write '%s'", a->json);
    qb_compare_write_json(f, r, b, c, &a->opt);
    if (qb_close_output(f, a->json, &err)) return qb_cli_usage_error("compare", "--json: %s", err.msg);
  }
  return 0;
}

int qb_cmd_compare(int argc, char** argv) {
  compare_args a;
  const int prc = parse_args(argc, argv, &a);
  if (prc) return prc < 0 ? QB_EXIT_OK : prc;
  qb_run_data base, current;
  qb_error err;
  if (qb_run_data_load(a.base, a.db, &base, &err)) {
    qb_run_data_free(&base);
    return qb_cli_usage_error("compare", "%s", err.msg);
  }
  if (qb_run_data_load(a.current, a.db, &current, &err)) {
    qb_run_data_free(&base);
    qb_run_data_free(&current);
    return qb_cli_usage_error("compare", "%s", err.msg);
  }
  qb_compare_result r;
  int rc = QB_EXIT_USAGE;
  if (qb_compare_runs(&base, &current, &a.opt, &r, &err)) {
    fprintf(stderr, "qbench compare: error: %s\n", err.msg);
  } else {
    rc = write_outputs(&a, &r, &base, &current);
    if (!rc) rc = r.regressions ? QB_EXIT_FAILURE : QB_EXIT_OK;
    /* A gate that cannot see a slowdown must not pass one: series too short for the U
     * test to reach alpha are refused, whatever else was found. */
    if (rc != QB_EXIT_USAGE && r.too_short)
      rc = qb_cli_usage_error(
          "compare", "%zu latency series are too short to judge at alpha %g: %zu vs %zu repetitions "
          "(e.g. %s) give at best p = %.3g with the Mann-Whitney U test; rerun with more repetitions "
          "(>= 9, Google Benchmark's guidance) or raise --alpha",
          r.too_short, a.opt.alpha, r.short_n_base, r.short_n_current, r.short_what, r.short_min_p);
    /* Nothing compared cannot pass a gate: an empty or unrelated run is an error. */
    if (!rc && !r.compared)
      rc = qb_cli_usage_error("compare", "%s and %s have no rows in common: nothing to compare",
                              a.base, a.current);
    qb_compare_result_free(&r);
  }
  qb_run_data_free(&base);
  qb_run_data_free(&current);
  return rc;
}
