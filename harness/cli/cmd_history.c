/* qbench history: a metric over time from the SQLite history (harness/report/qb_history). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "qb_cli.h"
#include "qb_qconfig.h"
#include "qb_gnuplot.h"
#include "qb_history.h"

void qb_cmd_history_help(void) {
  printf(
      "usage: qbench history --metric M [options]\n\n"
      "Prints one metric over time from the results history: one series per (model,\n"
      "layer, backend, qconfig, threads), one point per run (the median of the run's\n"
      "values; latency_sample rows hold one value per repetition), ordered by run start,\n"
      "with the run's git revision and machine fingerprint.\n\n"
      "options:\n"
      "  --metric M        accuracy, drop, latency_sample, latency_median, sqnr, ... (required)\n"
      "  --model M         only this model\n"
      "  --layer L         this layer (default: end-to-end rows)\n"
      "  --backend B       only this backend\n"
      "  --qconfig Q       only this qconfig, in qbench eval --qconfig text form, e.g.\n"
      "                    w8-sym-channel-minmax/a8-aff-tensor-minmax/static\n"
      "  --machine FP      only runs on this machine fingerprint\n"
      "  --db FILE         the history (default results/qbench.db)\n"
      "  --plot FILE.png   also plot it (FILE.svg too; the data goes to FILE.dat)\n"
      "  -h, --help        this help\n\n"
      "exit status: 0 rows printed, 1 nothing matched, 2 usage error or unreadable database\n");
}

int qb_cmd_history(int argc, char** argv) {
  static const struct option opts[] = {
      {"metric", required_argument, 0, 'm'},  {"model", required_argument, 0, 'M'},
      {"layer", required_argument, 0, 'l'},   {"backend", required_argument, 0, 'b'},
      {"qconfig", required_argument, 0, 'q'}, {"machine", required_argument, 0, 'f'},
      {"db", required_argument, 0, 'd'},      {"plot", required_argument, 0, 'p'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  qb_history_query q = {"results/qbench.db", NULL, NULL, NULL, NULL, NULL, NULL};
  const char* plot = NULL;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'm': q.metric = optarg; break;
      case 'M': q.model = optarg; break;
      case 'l': q.layer = optarg; break;
      case 'b': q.backend = optarg; break;
      case 'q': q.qconfig = optarg; break;
      case 'f': q.machine = optarg; break;
      case 'd': q.db_path = optarg; break;
      case 'p': plot = optarg; break;
      case 'h': qb_cmd_history_help(); return QB_EXIT_OK;
      default: return qb_cli_usage_error("history", "see qbench history --help");
    }
  }
  if (optind != argc) return qb_cli_usage_error("history", "unexpected argument '%s'", argv[optind]);
  if (!q.metric) return qb_cli_usage_error("history", "--metric is required");
  if (plot && (strlen(plot) < 5 || strcmp(plot + strlen(plot) - 4, ".png")))
    return qb_cli_usage_error("history", "--plot '%s': expected a file name ending in .png", plot);
  qb_history h;
  qb_error err;
  qb_qconfig parsed;
  if (q.qconfig && qb_qconfig_parse(q.qconfig, &parsed, &err))
    return qb_cli_usage_error("history", "--qconfig '%s': %s", q.qconfig, err.msg);
  if (qb_history_query_db(&q, &h, &err)) return qb_cli_usage_error("history", "%s", err.msg);
  if (!h.nseries) {
    fprintf(stderr, "qbench history: no %s rows match in %s\n", q.metric, q.db_path);
    qb_history_free(&h);
    return QB_EXIT_FAILURE;
  }
  qb_history_write_text(stdout, &h, &q);
  int rc = QB_EXIT_OK;
  if (plot) {
    char base[1024], data[1100], svg[1100], vars[512], title[160];
    snprintf(base, sizeof base, "%.*s", (int)(strlen(plot) - 4), plot);
    snprintf(data, sizeof data, "%s.dat", base);
    snprintf(svg, sizeof svg, "%s.svg", base);
    qb_gnuplot_quote(q.metric, title, sizeof title);
    snprintf(vars, sizeof vars, "nseries=%zu; ylabel='%s (%s)'; title='qbench history: %s per run'",
             h.nseries, title, h.series[0].unit[0] ? h.series[0].unit : "-", title);
    if (qb_history_write_plot_data(data, &h, &err) ||
        qb_gnuplot_render_vars("history.gp", data, plot, vars, &err) ||
        qb_gnuplot_render_vars("history.gp", data, svg, vars, &err)) {
      fprintf(stderr, "qbench history: error: %s\n", err.msg);
      rc = QB_EXIT_FAILURE;
    } else {
      printf("\nplot: %s (and %s)\n", plot, svg);
    }
  }
  qb_history_free(&h);
  return rc;
}
