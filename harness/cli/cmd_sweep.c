/* qbench sweep: run a sweep config (a YAML file in configs/): plan, evaluate, record, resume. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qb_affinity.h"
#include "qb_cli.h"
#include "qb_thread_pool.h"
#include "qb_sweep_config.h"
#include "qb_sweep_eval.h"
#include "qb_sweep_plan.h"
#include "qb_sweep_run.h"

void qb_cmd_sweep_help(void) {
  printf(
      "usage: qbench sweep CONFIG.yaml [options]\n\n"
      "Run a sweep: the cross product of the config's axes (models x workflows x weight\n"
      "and activation bits/scheme/granularity/range x backends), minus combinations that\n"
      "make no sense (each skipped with its reason). Rows go to <output>/<name>-<UTC>/\n"
      "(results.csv, results.json, run.json, gbench.json, predictions/) and to the SQLite\n"
      "history.\n"
      "Keys: README.md, section qbench sweep.\n\n"
      "options:\n"
      "  --dry-run           print the plan (item ids), its size and the skips by rule\n"
      "  --list-skips        with --dry-run: also print every skipped combination\n"
      "  --resume RUN_DIR    continue an interrupted run: its complete items are kept,\n"
      "                      incomplete ones run again\n"
      "  --output DIR        override the config's output folder\n"
      "  --db FILE           SQLite history (default <output>/qbench.db)\n"
      "  --shard I/N         run only items I, I+N, I+2N... (1-based) of the plan: a\n"
      "                      deterministic slice for a scheduler; combine the shards'\n"
      "                      run folders with qbench merge\n"
      "  --fmnist-dir DIR    Fashion-MNIST IDX folder (default " QB_FASHION_MNIST ")\n"
      "  --eval-threads N    threads of the accuracy, per-layer and sensitivity runs and\n"
      "                      of calibration (results are the same for any N; speed is\n"
      "                      timed at the config's threads); default: the cores\n"
      "                      (hwloc)\n"
      "  -h, --help          this help\n\n"
      "SIGINT/SIGTERM finish the item in flight, record it, and stop; a second signal\n"
      "stops at once (that item is then redone by --resume).\n"
      "exit status: 0 all items done, 1 an item failed or the run was interrupted,\n"
      "2 bad config or usage.\n");
}

typedef struct {
  const char* config;
  const char* resume;
  const char* output;
  const char* db;
  const char* fmnist_dir;
  long shard, nshards; /* 1-based shard of nshards; 0 = the whole plan */
  long eval_threads;   /* 0 = the cores */
  bool dry_run, list_skips;
} sweep_opts;

/* "I/N" with 1 <= I <= N <= 100000. */
static int parse_shard(const char* text, sweep_opts* o) {
  char tail;
  if (sscanf(text, "%ld/%ld%c", &o->shard, &o->nshards, &tail) != 2 || o->nshards < 1 ||
      o->nshards > 100000 || o->shard < 1 || o->shard > o->nshards)
    return qb_cli_usage_error("sweep", "--shard '%s': expected I/N with 1 <= I <= N", text);
  return 0;
}

static int parse_opts(int argc, char** argv, sweep_opts* o) {
  static const struct option longopts[] = {
      {"dry-run", no_argument, 0, 'n'},      {"list-skips", no_argument, 0, 'l'},
      {"resume", required_argument, 0, 'r'}, {"output", required_argument, 0, 'o'},
      {"db", required_argument, 0, 'd'},     {"help", no_argument, 0, 'h'},
      {"shard", required_argument, 0, 's'},  {"fmnist-dir", required_argument, 0, 'f'},
      {"eval-threads", required_argument, 0, 't'}, {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 'n': o->dry_run = true; break;
      case 'l': o->list_skips = true; break;
      case 'r': o->resume = optarg; break;
      case 'o': o->output = optarg; break;
      case 'd': o->db = optarg; break;
      case 'f': o->fmnist_dir = optarg; break;
      case 't': {
        char* end;
        o->eval_threads = strtol(optarg, &end, 10);
        if (*end || end == optarg || o->eval_threads < 1 || o->eval_threads > QB_THREAD_POOL_MAX)
          return qb_cli_usage_error("sweep", "--eval-threads '%s': expected 1..%d", optarg,
                                    QB_THREAD_POOL_MAX);
        break;
      }
      case 's':
        if (parse_shard(optarg, o)) return QB_EXIT_USAGE;
        break;
      case 'h': qb_cmd_sweep_help(); return -1;
      case ':': return qb_cli_usage_error("sweep", "option %s needs a value", argv[optind - 1]);
      default:
        return qb_cli_usage_error("sweep", "unknown option '%s' (see qbench sweep --help)",
                                  argv[optind - 1]);
    }
  }
  if (optind != argc - 1)
    return qb_cli_usage_error("sweep", optind >= argc ? "missing CONFIG.yaml (see qbench sweep --help)"
                                                      : "expected exactly one CONFIG.yaml");
  o->config = argv[optind];
  if (o->resume && o->dry_run)
    return qb_cli_usage_error("sweep", "--resume and --dry-run exclude each other");
  return 0;
}

static void print_plan(const qb_sweep_config* cfg, const qb_plan* plan, bool list_skips) {
  printf("plan %s: %zu items, %zu skipped, of %zu combinations\n", cfg->file, plan->nitems,
         plan->nskips, plan->ncombinations);
  for (size_t i = 0; i < plan->nitems; i++) printf("  %s\n", plan->items[i].id);
  size_t nrules;
  const qb_plan_rule* rules = qb_plan_rules(&nrules);
  if (plan->nskips) printf("skipped, by rule:\n");
  for (size_t r = 0; r < nrules; r++) {
    size_t n = 0;
    for (size_t i = 0; i < plan->nskips; i++) n += plan->skips[i].rule == &rules[r];
    if (n) printf("  %-26s %6zu  %s\n", rules[r].name, n, rules[r].reason);
  }
  if (list_skips)
    for (size_t i = 0; i < plan->nskips; i++)
      printf("  skip %s  (%s)\n", plan->skips[i].id, plan->skips[i].rule->name);
}

/* Keeps items shard-1, shard-1+n, ... of the plan (round robin over the model-major
 * order, so every shard gets a similar mix of models and backends). */
static void keep_shard(qb_plan* plan, long shard, long n) {
  size_t kept = 0;
  for (size_t i = 0; i < plan->nitems; i++)
    if ((long)(i % (size_t)n) == shard - 1) plan->items[kept++] = plan->items[i];
  plan->nitems = kept;
}

/* Progress on stderr around the real evaluator: done/total, elapsed, ETA. */
typedef struct {
  qb_sweep_evaluator* ev;
  const qb_plan* plan;
  size_t evaluated;
  double start, last_print;
  bool tty, open_line; /* open_line: the terminal's progress line has no newline yet */
} progress;

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int eval_with_progress(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* item,
                              qb_result_rows* rows, qb_error* err) {
  progress* p = ctx;
  const int rc = qb_sweep_eval_item(p->ev, cfg, item, rows, err);
  p->evaluated++;
  /* Items after this one in plan order are what is left (on resume an upper bound). */
  const size_t index = (size_t)(item - p->plan->items), left = p->plan->nitems - index - 1;
  const double now = seconds_now(), elapsed = now - p->start;
  /* A terminal gets one line rewritten in place; a log file a line every 10 s. */
  if (!p->tty && left > 0 && now - p->last_print < 10.0) return rc;
  p->last_print = now;
  fprintf(stderr, "%s  progress %zu/%zu  elapsed %.1f s  ETA %.1f s  %s%s", p->tty ? "\r\033[K" : "",
          index + 1, p->plan->nitems, elapsed, elapsed / (double)p->evaluated * (double)left,
          item->id, p->tty && left > 0 ? "" : "\n");
  p->open_line = p->tty && left > 0;
  return rc;
}

static int speed_with_progress(void* ctx, const qb_sweep_config* cfg,
                               const qb_plan_item* const* items, qb_result_rows* const* rows,
                               size_t n, qb_error* err) {
  progress* p = ctx;
  return qb_sweep_eval_speed_group(p->ev, cfg, items, rows, n, err);
}

/* The command that continues an interrupted run: the same config, history, shard
 * and fmnist folder (without --db a resume would record into <output>/qbench.db of
 * the config's output, another history, and without --shard run the whole plan). */
static void print_resume_hint(const sweep_opts* o, const qb_sweep_config* cfg, const char* db,
                              const char* run_dir) {
  fprintf(stderr, "qbench sweep: interrupted; continue with: qbench sweep %s --output %s --db %s",
          cfg->file, cfg->output, db);
  if (o->nshards > 1) fprintf(stderr, " --shard %ld/%ld", o->shard, o->nshards);
  if (o->fmnist_dir) fprintf(stderr, " --fmnist-dir %s", o->fmnist_dir);
  fprintf(stderr, " --resume %s\n", run_dir);
}

/* plan: the items to run (a shard); whole: the unsharded plan, from which each
 * qconfig's evaluated backend is chosen (qb_sweep_eval.h), so shards agree. */
static int run(const sweep_opts* o, const qb_sweep_config* cfg, const qb_plan* plan,
               const qb_plan* whole) {
  char run_dir[1024], db[1024];
  if (o->resume) { /* checked before anything is created: a usage error */
    char runjson[1100];
    snprintf(runjson, sizeof runjson, "%s/run.json", o->resume);
    struct stat st;
    if (stat(runjson, &st) || !S_ISREG(st.st_mode))
      return qb_cli_usage_error("sweep", "--resume %s: not a run folder (no run.json) to resume",
                                o->resume);
  }
  if (o->resume) snprintf(run_dir, sizeof run_dir, "%s", o->resume);
  else qb_sweep_new_run_dir(cfg, run_dir, sizeof run_dir);
  if (!o->resume && o->nshards > 1) {
    const size_t len = strlen(run_dir);
    snprintf(run_dir + len, sizeof run_dir - len, "-shard%ldof%ld", o->shard, o->nshards);
  }
  if (o->db) snprintf(db, sizeof db, "%s", o->db);
  else snprintf(db, sizeof db, "%s/qbench.db", cfg->output);
  char gbench_json[1100];
  snprintf(gbench_json, sizeof gbench_json, "%s/gbench.json", run_dir);
  const qb_sweep_eval_options eo = {o->fmnist_dir, 0, stderr, gbench_json, whole, 0,
                                    (size_t)(o->eval_threads ? o->eval_threads : qb_affinity_core_count())};
  progress prog = {qb_sweep_evaluator_new(&eo), plan, 0, seconds_now(), 0.0, isatty(2), false};
  if (!prog.ev) return QB_EXIT_FAILURE;
  qb_sweep_options opt = {run_dir,
                          db,
                          o->resume != NULL,
                          true,
                          eval_with_progress,
                          &prog,
                          stderr,
                          speed_with_progress,
                          (size_t)cfg->interleave};
  qb_sweep_install_signal_handlers();
  qb_sweep_summary sum;
  qb_error err;
  fprintf(stderr, "qbench sweep: %s: %zu items -> %s (history %s)\n", cfg->file, plan->nitems,
          run_dir, db);
  const int rc = qb_sweep_run(cfg, plan, &opt, &sum, &err);
  if (prog.open_line) fputc('\n', stderr);
  const size_t high_cv = qb_sweep_evaluator_high_cv(prog.ev);
  const size_t mismatches = qb_sweep_evaluator_probe_mismatches(prog.ev);
  qb_sweep_evaluator_free(prog.ev);
  if (mismatches)
    fprintf(stderr, "qbench sweep: warning: %zu items of exact backends did not reproduce their "
                    "evaluated backend's probe outputs (exact_check probe-mismatch)\n", mismatches);
  if (high_cv)
    fprintf(stderr, "qbench sweep: warning: %zu items had an end-to-end latency CV above 5 %% "
                    "(a busy machine? more repetitions?)\n", high_cv);
  if (rc) {
    fprintf(stderr, "qbench sweep: error: %s\n", err.msg);
    return QB_EXIT_FAILURE;
  }
  fprintf(stderr, "qbench sweep: wall time %.1f s\n", seconds_now() - prog.start);
  printf("%s: %zu items done now, %zu done before, %zu failed, %zu rows%s\n", run_dir, sum.done,
         sum.already_done, sum.failed, sum.rows, sum.interrupted ? ", interrupted" : "");
  if (sum.dropped_csv_rows)
    printf("resume: dropped %zu rows of unfinished items from results.csv\n",
           sum.dropped_csv_rows);
  if (sum.interrupted) print_resume_hint(o, cfg, db, run_dir);
  return sum.failed || sum.interrupted ? QB_EXIT_FAILURE : QB_EXIT_OK;
}

int qb_cmd_sweep(int argc, char** argv) {
  sweep_opts o;
  const int prc = parse_opts(argc, argv, &o);
  if (prc) return prc < 0 ? QB_EXIT_OK : prc;
  qb_sweep_config* cfg = malloc(sizeof *cfg);
  if (!cfg) return QB_EXIT_FAILURE;
  qb_error err;
  if (qb_sweep_config_load(o.config, cfg, &err)) {
    fprintf(stderr, "qbench sweep: error: %s\n", err.msg);
    free(cfg);
    return QB_EXIT_USAGE;
  }
  if (o.output) snprintf(cfg->output, sizeof cfg->output, "%s", o.output);
  qb_plan plan, whole = {0};
  int rc;
  if (qb_plan_build(cfg, qb_isa_usable_set(), &plan, &err) ||
      qb_plan_build(cfg, qb_isa_usable_set(), &whole, &err)) {
    fprintf(stderr, "qbench sweep: error: %s\n", err.msg);
    rc = QB_EXIT_USAGE;
  } else {
    if (o.nshards > 1) keep_shard(&plan, o.shard, o.nshards);
    if (o.dry_run) {
      print_plan(cfg, &plan, o.list_skips);
      rc = QB_EXIT_OK;
    } else if (plan.nitems == 0) {
      fprintf(stderr, "qbench sweep: error: %s: every combination is skipped (see --dry-run)\n",
              cfg->file);
      rc = QB_EXIT_USAGE;
    } else {
      rc = run(&o, cfg, &plan, &whole);
    }
  }
  qb_plan_free(&plan);
  qb_plan_free(&whole);
  qb_sweep_config_free(cfg);
  free(cfg);
  return rc;
}
