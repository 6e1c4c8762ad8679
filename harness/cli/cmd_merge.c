/* qbench merge: combine the run folders of a sharded sweep (qbench sweep --shard I/N)
 * into one run folder, as if the sweep had run unsharded. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb_cli.h"
#include "qb_gbench.h"
#include "qb_result.h"
#include "qb_results_files.h"

void qb_cmd_merge_help(void) {
  printf(
      "usage: qbench merge --out DIR RUN_DIR...\n\n"
      "Combine the run folders of a sharded sweep (qbench sweep CONFIG --shard I/N, one\n"
      "per shard) into DIR: results.csv and results.json with every shard's rows (run_id\n"
      "set to DIR's name), run.json from the first shard, and gbench.json with every\n"
      "shard's Google Benchmark entries under the first shard's context. An item found in two shards\n"
      "is an error (the shards overlap). The shards' rows stay in the SQLite history\n"
      "under their own run ids.\n\n"
      "options:\n"
      "  -o, --out DIR   the merged run folder (created; must not hold results.csv)\n"
      "  -h, --help      this help\n\n"
      "exit status: 0 merged, 1 I/O error, 2 usage or unreadable shard.\n");
}

static int read_file(const char* path, char** text, size_t* len) {
  FILE* f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  const long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *text = malloc(n > 0 ? (size_t)n : 1);
  *len = *text && n > 0 ? fread(*text, 1, (size_t)n, f) : 0;
  fclose(f);
  return *text ? 0 : -1;
}

/* Appends one shard's rows; fails when an item of it is already in `all` from
 * another shard. */
static int add_shard(const char* dir, qb_result_rows* all, size_t first_of_shard, qb_error* err) {
  char csv[1100];
  snprintf(csv, sizeof csv, "%s/results.csv", dir);
  struct stat st;
  if (stat(csv, &st)) return qb_fail(err, "%s: not a run folder (no results.csv)", dir);
  const size_t before = all->count;
  bool torn = false;
  if (qb_results_csv_read(csv, all, &torn, err)) return -1;
  if (torn) return qb_fail(err, "%s: the last line is torn; finish the shard with --resume", csv);
  for (size_t i = before; i < all->count; i++)
    for (size_t j = 0; j < first_of_shard; j++)
      if (!strcmp(all->rows[i].item_id, all->rows[j].item_id))
        return qb_fail(err, "%s: item %s is also in an earlier shard (overlapping shards)", dir,
                       all->rows[i].item_id);
  return 0;
}

/* run.json of the first shard with its "run_id" replaced by the merged run's. */
static int write_run_json(const char* path, const char* text, size_t len, const char* run_id,
                          qb_error* err) {
  const char* key = "\"run_id\": \"";
  const char* at = memmem(text, len, key, strlen(key));
  const char* end = at ? memchr(at + strlen(key), '"', len - (size_t)(at + strlen(key) - text)) : NULL;
  if (!end) return qb_write_file_atomic(path, text, len, err);
  const size_t head = (size_t)(at - text) + strlen(key), tail = len - (size_t)(end - text);
  char* out = malloc(head + strlen(run_id) + tail);
  if (!out) return qb_fail(err, "out of memory");
  memcpy(out, text, head);
  memcpy(out + head, run_id, strlen(run_id));
  memcpy(out + head + strlen(run_id), end, tail);
  const int rc = qb_write_file_atomic(path, out, head + strlen(run_id) + tail, err);
  free(out);
  return rc;
}

/* gbench.json: the first shard's context, every shard's benchmarks. */
static int merge_gbench(const char* out, char* const* dirs, size_t n, qb_error* err) {
  char(*paths)[1100] = calloc(n, sizeof *paths);
  const char** list = calloc(n, sizeof *list);
  int rc = paths && list ? 0 : qb_fail(err, "out of memory");
  for (size_t i = 0; !rc && i < n; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/gbench.json", dirs[i]);
    list[i] = paths[i];
  }
  char path[1100];
  snprintf(path, sizeof path, "%s/gbench.json", out);
  if (!rc && qb_gbench_merge_json(path, list, n))
    rc = qb_fail(err, "%s: cannot merge the shards' Google Benchmark JSON", path);
  free(paths), free(list);
  return rc;
}

static const char* base_name(const char* path) {
  const char* s = strrchr(path, '/');
  return s && s[1] ? s + 1 : path;
}

int qb_cmd_merge(int argc, char** argv) {
  static const struct option opts[] = {
      {"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char* out = NULL;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    if (c == 'o') out = optarg;
    else if (c == 'h') return qb_cmd_merge_help(), QB_EXIT_OK;
    else return qb_cli_usage_error("merge", "unknown option or missing value (see qbench merge --help)");
  }
  if (!out) return qb_cli_usage_error("merge", "missing --out DIR (see qbench merge --help)");
  if (optind >= argc) return qb_cli_usage_error("merge", "no RUN_DIR given");
  qb_error err = {{0}};
  qb_result_rows all;
  qb_result_rows_init(&all);
  int rc = QB_EXIT_USAGE;
  for (int i = optind; i < argc; i++)
    if (add_shard(argv[i], &all, all.count, &err)) goto done;
  rc = QB_EXIT_FAILURE;
  char path[1100];
  struct stat st;
  snprintf(path, sizeof path, "%s/results.csv", out);
  if (mkdir(out, 0777) && errno != EEXIST) {
    qb_fail(&err, "%s: cannot create: %s", out, strerror(errno));
    goto done;
  }
  if (!stat(path, &st)) {
    qb_fail(&err, "%s: already holds a run (results.csv); choose another --out", out);
    rc = QB_EXIT_USAGE;
    goto done;
  }
  for (size_t i = 0; i < all.count; i++)
    snprintf(all.rows[i].run_id, sizeof all.rows[i].run_id, "%s", base_name(out));
  if (qb_results_csv_rewrite(path, all.rows, all.count, &err)) goto done;
  snprintf(path, sizeof path, "%s/results.json", out);
  if (qb_results_json_write(path, all.rows, all.count, &err)) goto done;
  char src[1100], *text = NULL;
  size_t len = 0;
  snprintf(src, sizeof src, "%s/run.json", argv[optind]);
  snprintf(path, sizeof path, "%s/run.json", out);
  if (read_file(src, &text, &len) == 0) {
    const int wrc = write_run_json(path, text, len, base_name(out), &err);
    free(text);
    if (wrc) goto done;
  }
  if (merge_gbench(out, argv + optind, (size_t)(argc - optind), &err)) goto done;
  printf("%s: %zu rows from %d shards\n", out, all.count, argc - optind);
  rc = QB_EXIT_OK;
done:
  if (rc != QB_EXIT_OK) fprintf(stderr, "qbench merge: error: %s\n", err.msg);
  qb_result_rows_free(&all);
  return rc;
}
