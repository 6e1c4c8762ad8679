/* qbench hardware RUN_A RUN_B ...: machines side by side (harness/report/qb_hardware). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_cli.h"
#include "qb_hardware.h"

void qb_cmd_hardware_help(void) {
  printf(
      "usage: qbench hardware RUN_A RUN_B [RUN...] [options]\n\n"
      "Side-by-side comparison of runs from different machines (e.g. configs/hardware.yaml\n"
      "swept on each, run folders copied to one place): the machines' identities (libcpuid,\n"
      "hwloc, ISA backends usable and measured, measured int8 peak), per model and qconfig\n"
      "the end-to-end latency on each machine's fastest backend with the speed-up over\n"
      "RUN_A, raw and normalized by the ratio of the machines' measured int8 peaks, and\n"
      "the Google Benchmark kernels the runs share (GOPS, %% of that machine's peak).\n"
      "A machine's peak comes from RUN/roofline.json (copy ~/.cache/qbench/roofline-*.json\n"
      "there) or, for this machine, from the cache.\n\n"
      "options:\n"
      "  --out DIR     write DIR/hardware.md and DIR/plots/ (default results/hardware)\n"
      "  --db FILE     history for run ids (default results/qbench.db)\n"
      "  --no-plots    skip gnuplot\n"
      "  -h, --help    this help\n\n"
      "exit status: 0 written (path printed), 1 run-time error, 2 usage error or unreadable run\n");
}

int qb_cmd_hardware(int argc, char** argv) {
  static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                       {"db", required_argument, 0, 'd'},
                                       {"no-plots", no_argument, 0, 'n'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  qb_hardware_options ho = {"results/hardware", true};
  const char* db = "results/qbench.db";
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'o': ho.out_dir = optarg; break;
      case 'd': db = optarg; break;
      case 'n': ho.plots = false; break;
      case 'h': qb_cmd_hardware_help(); return QB_EXIT_OK;
      default: return qb_cli_usage_error("hardware", "see qbench hardware --help");
    }
  }
  const int n = argc - optind;
  if (n < 2 || n > 16) return qb_cli_usage_error("hardware", "expected 2..16 runs, got %d", n);
  qb_run_data* runs = calloc((size_t)n, sizeof *runs);
  if (!runs) return QB_EXIT_FAILURE;
  qb_error err;
  int rc = QB_EXIT_OK, loaded = 0;
  for (; loaded < n && rc == QB_EXIT_OK; loaded++)
    if (qb_run_data_load(argv[optind + loaded], db, &runs[loaded], &err))
      rc = qb_cli_usage_error("hardware", "%s", err.msg);
  char path[1200];
  if (rc == QB_EXIT_OK) {
    if (qb_hardware_compare(runs, (size_t)n, &ho, path, sizeof path, &err)) {
      fprintf(stderr, "qbench hardware: error: %s\n", err.msg);
      rc = QB_EXIT_FAILURE;
    } else {
      printf("%s\n", path);
    }
  }
  for (int i = 0; i < loaded; i++) qb_run_data_free(&runs[i]);
  free(runs);
  return rc;
}
