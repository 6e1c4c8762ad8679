/* qbench merge: combine the run folders of a sharded sweep (qbench sweep --shard I/N)
 * into one run folder, as if the sweep had run unsharded. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <getopt.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb_cli.h"
#include "qb_gbench.h"
#include "qb_predictions.h"
#include "qb_result.h"
#include "qb_json_scan.h"
#include "qb_results_files.h"
#include "qb_run_data.h"
#include "qb_hash.h"

void qb_cmd_merge_help(void) {
  printf(
      "usage: qbench merge --out DIR RUN_DIR...\n\n"
      "Combine the run folders of a sharded sweep (qbench sweep CONFIG --shard I/N, one\n"
      "per shard) into DIR: results.csv and results.json with every shard's rows (run_id\n"
      "set to DIR's name), run.json from the first shard, and gbench.json with every\n"
      "shard's Google Benchmark entries under the first shard's context, predictions/ with\n"
      "every shard's per-sample predictions. An item found in two shards\n"
      "is an error (the shards overlap). The shards' rows stay in the SQLite history\n"
      "under their own run ids.\n\n"
      "options:\n"
      "  -o, --out DIR   the merged run folder (created; must not hold results.csv)\n"
      "  -h, --help      this help\n\n"
      "exit status: 0 merged, 1 I/O error, 2 usage or unreadable shard.\n");
}

/* Item ids of the shards read so far: an open-addressing hash set (FNV-1a, linear
 * probing, at most half full), so that the overlap check is linear in rows (it was a
 * scan of every earlier row: 2 x 100k rows took minutes). */
typedef struct {
  const char** slot;
  size_t cap, count;
} id_set;

/* The slot of `id`, or the empty slot where it would go. */
static size_t id_slot(const id_set* set, const char* id) {
  size_t i = (size_t)qb_fnv1a64_str(id) & (set->cap - 1);
  while (set->slot[i] && strcmp(set->slot[i], id)) i = (i + 1) & (set->cap - 1);
  return i;
}

static bool id_set_has(const id_set* set, const char* id) {
  return set->cap && set->slot[id_slot(set, id)];
}

/* Adds a copy of `id`. -1 when out of memory. */
static int id_set_add(id_set* set, const char* id) {
  if (2 * (set->count + 1) > set->cap) {
    id_set bigger = {NULL, set->cap ? 2 * set->cap : 1024, 0};
    if (!(bigger.slot = calloc(bigger.cap, sizeof *bigger.slot))) return -1;
    for (size_t i = 0; i < set->cap; i++)
      if (set->slot[i]) bigger.slot[id_slot(&bigger, set->slot[i])] = set->slot[i], bigger.count++;
    free(set->slot);
    *set = bigger;
  }
  const size_t i = id_slot(set, id);
  if (!set->slot[i]) {
    if (!(set->slot[i] = strdup(id))) return -1;
    set->count++;
  }
  return 0;
}

static void id_set_free(id_set* set) {
  for (size_t i = 0; i < set->cap; i++) free((char*)set->slot[i]);
  free(set->slot);
}

/* A shard's gbench.json must be Google Benchmark JSON that qbench can read back, or
 * the merged file would be invalid. */
static int check_shard_gbench(const char* dir, qb_error* err) {
  char path[1100];
  snprintf(path, sizeof path, "%s/gbench.json", dir);
  struct stat st;
  if (stat(path, &st)) return 0; /* no benchmarks in this shard */
  size_t len;
  char* text = qb_read_text_file(path, &len);
  if (!text) return qb_fail(err, "%s: cannot read", path);
  qb_run_data probe;
  memset(&probe, 0, sizeof probe);
  const int rc = qb_run_data_parse_gbench(path, text, len, &probe, err);
  qb_run_data_free(&probe);
  free(text);
  return rc;
}

/* Appends one shard's rows; fails when an item of it is already in `seen` (the ids
 * of earlier shards), then adds its ids to `seen`. */
static int add_shard(const char* dir, qb_result_rows* all, id_set* seen, qb_error* err) {
  char csv[1100];
  snprintf(csv, sizeof csv, "%s/results.csv", dir);
  struct stat st;
  if (stat(csv, &st)) return qb_fail(err, "%s: not a run folder (no results.csv)", dir);
  if (check_shard_gbench(dir, err)) return -1;
  const size_t before = all->count;
  bool torn = false;
  if (qb_results_csv_read(csv, all, &torn, err)) return -1;
  if (torn) return qb_fail(err, "%s: the last line is torn; finish the shard with --resume", csv);
  for (size_t i = before; i < all->count; i++)
    if (id_set_has(seen, all->rows[i].item_id))
      return qb_fail(err, "%s: item %s is also in an earlier shard (overlapping shards)", dir,
                     all->rows[i].item_id);
  return 0;
}

/* The ids of rows [from, to) (copied: the rows move as later shards are read). */
static int add_ids(id_set* seen, const qb_result_rows* all, size_t from, size_t to, qb_error* err) {
  for (size_t i = from; i < to; i++)
    if (id_set_add(seen, all->rows[i].item_id)) return qb_fail(err, "out of memory");
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

/* predictions/: every shard's files (item files are distinct across shards; the
 * models' reference files are the same in every shard that ran the model). */
static int merge_predictions(const char* out, char* const* dirs, size_t n, qb_error* err) {
  for (size_t i = 0; i < n; i++) {
    char src_dir[1100], dst_dir[1100];
    snprintf(src_dir, sizeof src_dir, "%s/predictions", dirs[i]);
    snprintf(dst_dir, sizeof dst_dir, "%s/predictions", out);
    DIR* d = opendir(src_dir);
    if (!d) continue; /* a shard without accuracy items, or made before predictions */
    if (qb_mkdir_p(dst_dir, err)) return closedir(d), -1;
    int rc = 0;
    for (struct dirent* e; !rc && (e = readdir(d)) != NULL;) {
      const size_t len = strlen(e->d_name);
      if (len < 5 || strcmp(e->d_name + len - 4, ".npy")) continue;
      char src[1400], dst[1400];
      snprintf(src, sizeof src, "%s/%s", src_dir, e->d_name);
      snprintf(dst, sizeof dst, "%s/%s", dst_dir, e->d_name);
      uint16_t* v;
      size_t count;
      rc = qb_predictions_read_file(src, &v, &count, err) < 0 ||
                   qb_predictions_write_file(dst, v, count, err)
               ? -1
               : 0;
      free(v);
    }
    closedir(d);
    if (rc) return -1;
  }
  return 0;
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
  id_set seen = {NULL, 0, 0};
  for (int i = optind; i < argc; i++) {
    const size_t before = all.count;
    if (add_shard(argv[i], &all, &seen, &err) || add_ids(&seen, &all, before, all.count, &err))
      goto done;
  }
  rc = QB_EXIT_FAILURE;
  char path[1100];
  struct stat st;
  snprintf(path, sizeof path, "%s/results.csv", out);
  if (qb_mkdir_p(out, &err)) goto done;
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
  if ((text = qb_read_text_file(src, &len)) != NULL) {
    const int wrc = write_run_json(path, text, len, base_name(out), &err);
    free(text);
    if (wrc) goto done;
  }
  if (merge_gbench(out, argv + optind, (size_t)(argc - optind), &err)) goto done;
  if (merge_predictions(out, argv + optind, (size_t)(argc - optind), &err)) goto done;
  printf("%s: %zu rows from %d shards\n", out, all.count, argc - optind);
  rc = QB_EXIT_OK;
done:
  if (rc != QB_EXIT_OK) fprintf(stderr, "qbench merge: error: %s\n", err.msg);
  qb_result_rows_free(&all);
  id_set_free(&seen);
  return rc;
}
