/* qbench report RUN: RUN/report.md with plots (harness/report). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "qb_cli.h"
#include "qb_report.h"

void qb_cmd_report_help(void) {
  printf(
      "usage: qbench report RUN [options]\n\n"
      "Writes RUN/report.md: the machine and build; a summary of findings; per model the\n"
      "fp32 accuracy, a table of qconfigs (accuracy drop, latency per backend, weight\n"
      "bytes, effective bits), Pareto plots (drop vs latency, drop vs bytes), speed-up\n"
      "per backend, per-layer SQNR heatmap and the most sensitive layers; kernel\n"
      "benchmarks and the roofline when RUN/gbench.json exists (qbench bench --json);\n"
      "and 'Worth a look': high latency CV, range strategies giving identical results,\n"
      "saturation, backends disagreeing. Plots are rendered with gnuplot into RUN/plots/\n"
      "as PNG and SVG (their data as .dat).\n\n"
      "RUN is a run folder, or a run id in the history (--db); for a run id the report\n"
      "goes to results/<run id>/ unless --out says otherwise.\n\n"
      "options:\n"
      "  --out DIR        write report.md and plots/ into DIR (default: the run folder)\n"
      "  --db FILE        history for run ids (default results/qbench.db)\n"
      "  --roofline FILE  roofline JSON for the ceilings (default RUN/roofline.json, else\n"
      "                   this machine's cache ~/.cache/qbench/roofline-<fingerprint>.json)\n"
      "  --no-plots       skip gnuplot (the .dat files are still written)\n"
      "  -h, --help       this help\n\n"
      "exit status: 0 report written (its path is printed), 1 run-time error (e.g. gnuplot\n"
      "failed), 2 usage error or unreadable run\n");
}

static bool is_dir(const char* p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int qb_cmd_report(int argc, char** argv) {
  static const struct option opts[] = {
      {"out", required_argument, 0, 'o'},      {"db", required_argument, 0, 'd'},
      {"roofline", required_argument, 0, 'r'}, {"no-plots", no_argument, 0, 'n'},
      {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
  const char* out = NULL;
  const char* db = "results/qbench.db";
  qb_report_options ro = {true, NULL, stderr};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'o': out = optarg; break;
      case 'd': db = optarg; break;
      case 'r': ro.roofline = optarg; break;
      case 'n': ro.plots = false; break;
      case 'h': qb_cmd_report_help(); return QB_EXIT_OK;
      default: return qb_cli_usage_error("report", "see qbench report --help");
    }
  }
  if (optind != argc - 1)
    return qb_cli_usage_error("report", "expected exactly one RUN (see qbench report --help)");
  const char* arg = argv[optind];
  qb_run_data run;
  qb_error err;
  if (qb_run_data_load(arg, db, &run, &err)) {
    qb_run_data_free(&run);
    return qb_cli_usage_error("report", "%s", err.msg);
  }
  char out_dir[1100];
  if (out) snprintf(out_dir, sizeof out_dir, "%s", out);
  else if (is_dir(arg)) snprintf(out_dir, sizeof out_dir, "%s", arg);
  else snprintf(out_dir, sizeof out_dir, "results/%s", run.run_id);
  qb_report_summary sum;
  const int rc = qb_report_write(&run, out_dir, &ro, &sum, &err);
  qb_run_data_free(&run);
  if (rc) {
    fprintf(stderr, "qbench report: error: %s\n", err.msg);
    return QB_EXIT_FAILURE;
  }
  printf("%s\n", sum.path);
  fprintf(stderr, "qbench report: %d findings, %d plots (PNG + SVG), %d items worth a look\n",
          sum.findings, sum.plots, sum.warnings);
  return QB_EXIT_OK;
}
