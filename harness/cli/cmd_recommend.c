/* qbench recommend RUN --model M --max-drop X: deployment choice (harness/report/qb_recommend). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_cli.h"
#include "qb_sweep_config.h"
#include "qb_recommend.h"
#include "qb_recommend_verify.h"

void qb_cmd_recommend_help(void) {
  printf(
      "usage: qbench recommend RUN --model M --max-drop X [options]\n\n"
      "From a run's measurements: the qconfigs of model M whose top-1 drop from fp32 is at\n"
      "most X percentage points, ranked by the measured objective; the Pareto front (drop\n"
      "vs objective); and a mixed-precision plan - per layer a measured qconfig or float,\n"
      "chosen greedily from measured per-layer sensitivity (sensitivity_only) and per-layer\n"
      "latency or bytes. The plan's drop is PREDICTED (sum of per-layer sensitivities)\n"
      "and printed as 'verification pending' unless --verify runs the mixed configuration\n"
      "end to end: the run's model and data (run.json's config), its evaluation limit and\n"
      "calibration count, the plan's backend, the integer path; measured top-1 drop from\n"
      "fp32 printed next to the prediction. If the measured drop exceeds the budget, the\n"
      "most sensitive quantized layer goes to float and the plan is re-run (up to 3 rounds).\n"
      "The ranked qconfigs are measured.\n\n"
      "options:\n"
      "  --model M                 model name as in the run (required)\n"
      "  --max-drop X              accuracy budget in percentage points (required), met\n"
      "                            by the upper end of the drop's 95 %% interval where\n"
      "                            the run has paired statistics\n"
      "  --backend B               rank latency on this backend (default: each qconfig's\n"
      "                            fastest backend)\n"
      "  --objective latency|size  end-to-end latency (default) or packed weight bytes\n"
      "  --config FILE             also write a sweep config (YAML) of the best qconfig,\n"
      "                            with the mixed plan as comments: qbench sweep FILE\n"
      "                            re-measures it; its header has the qbench eval --qconfig\n"
      "  --verify                  run the mixed plan end to end (needs the run folder)\n"
      "  --fmnist-dir DIR          Fashion-MNIST IDX folder for --verify (default: the\n"
      "                            installed data set)\n"
      "  --db FILE                 history for run ids (default results/qbench.db)\n"
      "  -h, --help                this help\n\n"
      "exit status: 0 a qconfig meets the budget (and, with --verify, the verified plan\n"
      "too), 1 otherwise, 2 usage error, unreadable run or verification impossible\n");
}

int qb_cmd_recommend(int argc, char** argv) {
  static const struct option opts[] = {
      {"model", required_argument, 0, 'm'},   {"max-drop", required_argument, 0, 'x'},
      {"backend", required_argument, 0, 'b'}, {"objective", required_argument, 0, 'o'},
      {"config", required_argument, 0, 'c'},  {"db", required_argument, 0, 'd'},
      {"verify", no_argument, 0, 'V'},        {"fmnist-dir", required_argument, 0, 'F'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  qb_recommend_query q = {NULL, NAN, NULL, QB_OBJECTIVE_LATENCY};
  char entry[4 * QB_SWEEP_PATH_MAX];
  const char* model_entry = NULL;
  const char* config = NULL;
  const char* db = "results/qbench.db";
  bool verify = false;
  qb_verify_options vopt = {NULL, 3, stderr};
  optind = 1;
  int c;
  char* end;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'm': q.model = optarg; break;
      case 'x':
        q.max_drop = strtod(optarg, &end);
        if (!*optarg || *end || !(q.max_drop >= 0 && q.max_drop <= 100))
          return qb_cli_usage_error("recommend", "--max-drop '%s': expected 0..100 (percentage points)", optarg);
        break;
      case 'b': q.backend = optarg; break;
      case 'o':
        if (!strcmp(optarg, "latency")) q.objective = QB_OBJECTIVE_LATENCY;
        else if (!strcmp(optarg, "size")) q.objective = QB_OBJECTIVE_SIZE;
        else return qb_cli_usage_error("recommend", "--objective '%s': expected latency or size", optarg);
        break;
      case 'c': config = optarg; break;
      case 'd': db = optarg; break;
      case 'V': verify = true; break;
      case 'F': vopt.fmnist_dir = optarg; break;
      case 'h': qb_cmd_recommend_help(); return QB_EXIT_OK;
      default: return qb_cli_usage_error("recommend", "see qbench recommend --help");
    }
  }
  if (optind != argc - 1) return qb_cli_usage_error("recommend", "expected exactly one RUN");
  if (!q.model) return qb_cli_usage_error("recommend", "--model is required");
  if (isnan(q.max_drop)) return qb_cli_usage_error("recommend", "--max-drop is required");
  qb_run_data run;
  qb_error err;
  if (qb_run_data_load(argv[optind], db, &run, &err)) {
    qb_run_data_free(&run);
    return qb_cli_usage_error("recommend", "%s", err.msg);
  }
  qb_run_index idx;
  qb_recommendation r;
  int rc = QB_EXIT_USAGE;
  if (qb_run_index_build(&run.rows, &idx, &err)) {
    fprintf(stderr, "qbench recommend: error: %s\n", err.msg);
  } else {
    if (qb_recommend(&run, &idx, &q, &r, &err)) {
      qb_cli_usage_error("recommend", "%s: %s", argv[optind], err.msg);
    } else if (verify && qb_recommend_verify(&run, &idx, &q, &vopt, &r, &err)) {
      qb_cli_usage_error("recommend", "--verify: %s", err.msg);
      qb_recommendation_free(&r);
    } else {
      qb_recommend_write_text(stdout, &r, &idx, &q);
      rc = r.nranked && (!verify || r.plan_within_budget) ? QB_EXIT_OK : QB_EXIT_FAILURE;
      if (config) {
        /* A user model is written with its own path, task and data; a history id
         * has no config: the entry then names the model as a reference model. */
        qb_error entry_err;
        if (qb_recommend_model_entry(&run, q.model, entry, sizeof entry, &entry_err) == 0)
          model_entry = entry;
        FILE* f = fopen(config, "w");
        if (!f) rc = qb_cli_usage_error("recommend", "--config: cannot write '%s'", config);
        else {
          qb_recommend_write_yaml_entry(f, &r, &idx, &q, run.run_id, model_entry);
          if (fclose(f)) rc = qb_cli_usage_error("recommend", "--config: cannot write '%s'", config);
          else printf("\nsweep config: %s\n", config);
        }
      }
      qb_recommendation_free(&r);
    }
    qb_run_index_free(&idx);
  }
  qb_run_data_free(&run);
  return rc;
}
