#include "qb_results_db.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qb_predictions.h"

struct qb_results_db {
  sqlite3* db;
  char path[1024];
};

static int db_fail(qb_results_db* db, qb_error* err, const char* what) {
  return qb_fail(err, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->db));
}

static int exec(qb_results_db* db, const char* sql, qb_error* err) {
  char* msg = NULL;
  if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    qb_fail(err, "%s: %s", db->path, msg ? msg : "sqlite error");
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

static const char* sql_type(qb_result_col_type t) {
  return t == QB_COL_TEXT ? "TEXT" : t == QB_COL_INT ? "INTEGER" : "REAL";
}

/* CREATE TABLE results(...) from the column table, so the schema cannot drift from
 * the CSV and JSON writers. */
static int create_schema(qb_results_db* db, qb_error* err) {
  static const char kFixed[] =
      "CREATE TABLE IF NOT EXISTS runs(run_id TEXT PRIMARY KEY, started_utc TEXT,"
      " config_name TEXT, config_file TEXT, config_text TEXT, machine_fingerprint TEXT,"
      " git_revision TEXT, compiler TEXT, c_flags TEXT, build_type TEXT);"
      "CREATE INDEX IF NOT EXISTS runs_machine_rev ON runs(machine_fingerprint, git_revision);"
      "CREATE TABLE IF NOT EXISTS items(run_id TEXT NOT NULL, item_id TEXT NOT NULL,"
      " nrows INTEGER NOT NULL, finished_utc TEXT, PRIMARY KEY(run_id, item_id));"
      /* Added with the paired statistics: an older history gains it (empty) when
       * opened, and its runs read as runs without predictions. */
      "CREATE TABLE IF NOT EXISTS predictions(run_id TEXT NOT NULL, item_id TEXT NOT NULL,"
      " n INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(run_id, item_id));";
  if (exec(db, kFixed, err)) return -1;
  char sql[2048];
  size_t used = (size_t)snprintf(sql, sizeof sql,
                                 "CREATE TABLE IF NOT EXISTS results(seq INTEGER PRIMARY KEY");
  size_t n;
  const qb_result_column* cols = qb_result_columns(&n);
  for (size_t i = 0; i < n; i++)
    used += (size_t)snprintf(sql + used, sizeof sql - used, ", %s %s", cols[i].name,
                             sql_type(cols[i].type));
  snprintf(sql + used, sizeof sql - used,
           ");CREATE INDEX IF NOT EXISTS results_item ON results(run_id, item_id);");
  return exec(db, sql, err);
}

/* One integer query (the first column of the first row), -1 on error. */
static long long query_int(qb_results_db* db, const char* sql) {
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
  const long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return v;
}

/* Only a qbench history gets qbench's tables: an empty database (new file) is made
 * one, and is marked with PRAGMA application_id = QB_RESULTS_DB_APPLICATION_ID; a
 * marked one is ours; an unmarked one is ours only if it holds the three tables of a
 * history made before the mark (it is then marked). Anything else is refused before
 * a single table is created in it. */
static int claim_history(qb_results_db* db, qb_error* err) {
  const long long id = query_int(db, "PRAGMA application_id");
  const long long objects = query_int(db, "SELECT count(*) FROM sqlite_master");
  if (id < 0 || objects < 0) return db_fail(db, err, "not a readable SQLite database");
  if (id == QB_RESULTS_DB_APPLICATION_ID) return 0;
  const long long ours = query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                       "AND name IN ('runs', 'items', 'results')");
  if (id != 0 || (objects != 0 && ours != 3))
    return qb_fail(err, "%s: an SQLite database that is not a qbench history (application_id "
                   "%lld, %lld schema objects); choose another --db file", db->path, id, objects);
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA application_id = %d", QB_RESULTS_DB_APPLICATION_ID);
  return exec(db, sql, err);
}

int qb_results_db_open(const char* path, qb_results_db** out, qb_error* err) {
  *out = NULL;
  qb_results_db* db = calloc(1, sizeof *db);
  if (!db) return qb_fail(err, "%s: out of memory", path);
  snprintf(db->path, sizeof db->path, "%s", path);
  if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
      SQLITE_OK) {
    qb_fail(err, "%s: cannot open the results database: %s", path,
            db->db ? sqlite3_errmsg(db->db) : "out of memory");
    qb_results_db_close(db);
    return -1;
  }
  /* Other processes (a report, a second sweep) may hold the file briefly. */
  sqlite3_busy_timeout(db->db, 10000);
  if (claim_history(db, err) ||
      exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err) ||
      create_schema(db, err)) {
    qb_results_db_close(db);
    return -1;
  }
  *out = db;
  return 0;
}

void qb_results_db_close(qb_results_db* db) {
  if (!db) return;
  sqlite3_close(db->db);
  free(db);
}

static void bind_text(sqlite3_stmt* st, int i, const char* s) {
  sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

int qb_results_db_add_run(qb_results_db* db, const qb_run_record* run, qb_error* err) {
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db->db,
                         "INSERT OR IGNORE INTO runs VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", -1,
                         &st, NULL) != SQLITE_OK)
    return db_fail(db, err, "prepare runs insert");
  const char* v[] = {run->run_id,       run->started_utc,         run->config_name,
                     run->config_file,  run->config_text,         run->machine_fingerprint,
                     run->git_revision, run->compiler,            run->c_flags,
                     run->build_type};
  for (int i = 0; i < 10; i++) bind_text(st, i + 1, v[i]);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : db_fail(db, err, "insert run");
}

static void utc_now(char* buf, size_t size) {
  const time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int insert_rows(qb_results_db* db, const qb_result_row* rows, size_t count,
                       qb_error* err) {
  size_t n;
  const qb_result_column* cols = qb_result_columns(&n);
  char sql[1024];
  size_t used = (size_t)snprintf(sql, sizeof sql, "INSERT INTO results(");
  for (size_t i = 0; i < n; i++)
    used += (size_t)snprintf(sql + used, sizeof sql - used, "%s%s", i ? "," : "", cols[i].name);
  used += (size_t)snprintf(sql + used, sizeof sql - used, ") VALUES(");
  for (size_t i = 0; i < n; i++)
    used += (size_t)snprintf(sql + used, sizeof sql - used, "%s?", i ? "," : "");
  snprintf(sql + used, sizeof sql - used, ")");
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, err, "prepare results insert");
  int rc = 0;
  for (size_t r = 0; r < count && !rc; r++) {
    for (size_t i = 0; i < n; i++) {
      const char* p = (const char*)&rows[r] + cols[i].offset;
      const int k = (int)i + 1;
      if (cols[i].type == QB_COL_TEXT) bind_text(st, k, p);
      else if (cols[i].type == QB_COL_INT) sqlite3_bind_int(st, k, *(const int*)p);
      else if (isnan(*(const double*)p)) sqlite3_bind_null(st, k);
      else sqlite3_bind_double(st, k, *(const double*)p);
    }
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "insert result row");
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  return rc;
}

/* One predictions blob (verb: "INSERT OR REPLACE" for an item, "INSERT OR IGNORE" for
 * a model's reference, which every item of the model carries). */
static int insert_predictions(qb_results_db* db, const char* verb, const char* run_id,
                              const char* key, const uint16_t* v, size_t n, qb_error* err) {
  unsigned char* blob = malloc(1 + 2 * n);
  if (!blob) return qb_fail(err, "%s: out of memory", db->path);
  const size_t len = qb_predictions_encode(v, n, blob);
  char sql[128];
  snprintf(sql, sizeof sql, "%s INTO predictions VALUES(?1,?2,?3,?4)", verb);
  sqlite3_stmt* st;
  int rc = 0;
  if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) {
    free(blob);
    return db_fail(db, err, "prepare predictions insert");
  }
  bind_text(st, 1, run_id);
  bind_text(st, 2, key);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)n);
  sqlite3_bind_blob(st, 4, blob, (int)len, SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "insert predictions");
  sqlite3_finalize(st);
  free(blob);
  return rc;
}

static int insert_item_predictions(qb_results_db* db, const char* run_id, const char* item_id,
                                   const char* model, const qb_item_predictions* p,
                                   qb_error* err) {
  char fp32[128], labels[128];
  qb_predictions_key(model, "fp32", fp32, sizeof fp32);
  qb_predictions_key(model, "labels", labels, sizeof labels);
  return insert_predictions(db, "INSERT OR REPLACE", run_id, item_id, p->predicted, p->count, err) ||
                 insert_predictions(db, "INSERT OR IGNORE", run_id, fp32, p->fp32, p->count, err) ||
                 insert_predictions(db, "INSERT OR IGNORE", run_id, labels, p->labels, p->count, err)
             ? -1
             : 0;
}

int qb_results_db_commit_item(qb_results_db* db, const char* run_id, const char* item_id,
                              const qb_result_row* rows, size_t count,
                              const qb_item_predictions* pred, qb_error* err) {
  if (exec(db, "BEGIN IMMEDIATE", err)) return -1;
  int rc = insert_rows(db, rows, count, err);
  if (!rc && pred && pred->count && count)
    rc = insert_item_predictions(db, run_id, item_id, rows[0].model, pred, err);
  sqlite3_stmt* st = NULL;
  if (!rc && sqlite3_prepare_v2(db->db, "INSERT INTO items VALUES(?1,?2,?3,?4)", -1, &st,
                                NULL) != SQLITE_OK)
    rc = db_fail(db, err, "prepare items insert");
  if (!rc) {
    char now[32];
    utc_now(now, sizeof now);
    bind_text(st, 1, run_id);
    bind_text(st, 2, item_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)count);
    bind_text(st, 4, now);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "insert item");
  }
  sqlite3_finalize(st);
  if (rc) {
    qb_error ignored;
    exec(db, "ROLLBACK", &ignored);
    return -1;
  }
  return exec(db, "COMMIT", err);
}

int qb_results_db_items(qb_results_db* db, const char* run_id, qb_results_db_item_fn fn,
                        void* user, qb_error* err) {
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db->db, "SELECT item_id, nrows FROM items WHERE run_id=?1", -1, &st,
                         NULL) != SQLITE_OK)
    return db_fail(db, err, "prepare items query");
  bind_text(st, 1, run_id);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    fn((const char*)sqlite3_column_text(st, 0), (long)sqlite3_column_int64(st, 1), user);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : db_fail(db, err, "query items");
}

int qb_results_db_forget_item(qb_results_db* db, const char* run_id, const char* item_id,
                              qb_error* err) {
  if (exec(db, "BEGIN IMMEDIATE", err)) return -1;
  static const char* const kSql[] = {"DELETE FROM results WHERE run_id=?1 AND item_id=?2",
                                     "DELETE FROM items WHERE run_id=?1 AND item_id=?2",
                                     "DELETE FROM predictions WHERE run_id=?1 AND item_id=?2"};
  int rc = 0;
  for (int i = 0; i < 3 && !rc; i++) {
    sqlite3_stmt* st;
    if (sqlite3_prepare_v2(db->db, kSql[i], -1, &st, NULL) != SQLITE_OK) {
      rc = db_fail(db, err, "prepare delete");
      break;
    }
    bind_text(st, 1, run_id);
    bind_text(st, 2, item_id);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "delete item");
    sqlite3_finalize(st);
  }
  if (rc) {
    qb_error ignored;
    exec(db, "ROLLBACK", &ignored);
    return -1;
  }
  return exec(db, "COMMIT", err);
}

long qb_results_db_count_rows(qb_results_db* db, const char* run_id, qb_error* err) {
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db->db, "SELECT count(*) FROM results WHERE run_id=?1", -1, &st,
                         NULL) != SQLITE_OK) {
    db_fail(db, err, "prepare count");
    return -1;
  }
  bind_text(st, 1, run_id);
  long n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = (long)sqlite3_column_int64(st, 0);
  else db_fail(db, err, "count rows");
  sqlite3_finalize(st);
  return n;
}

char* qb_results_db_run_config(qb_results_db* db, const char* run_id) {
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db->db, "SELECT config_text FROM runs WHERE run_id=?1", -1, &st, NULL) !=
      SQLITE_OK)
    return NULL;
  bind_text(st, 1, run_id);
  char* text = NULL;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    text = strdup((const char*)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return text;
}

/* ---- readers ------------------------------------------------------------------------ */

static const char* column_text(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  return t ? (const char*)t : "";
}

/* Fills a row from result columns 0..n-1 of the statement. */
static void read_row(sqlite3_stmt* st, qb_result_row* row) {
  size_t n;
  const qb_result_column* cols = qb_result_columns(&n);
  memset(row, 0, sizeof *row);
  for (size_t i = 0; i < n; i++) {
    char* p = (char*)row + cols[i].offset;
    const int k = (int)i;
    if (cols[i].type == QB_COL_TEXT) snprintf(p, cols[i].size, "%s", column_text(st, k));
    else if (cols[i].type == QB_COL_INT) *(int*)p = sqlite3_column_int(st, k);
    else
      *(double*)p = sqlite3_column_type(st, k) == SQLITE_NULL ? NAN : sqlite3_column_double(st, k);
  }
}

int qb_results_db_select(qb_results_db* db, const char* run_id, const char* metric,
                         qb_results_db_row_fn fn, void* user, qb_error* err) {
  size_t n;
  const qb_result_column* cols = qb_result_columns(&n);
  char sql[2048];
  size_t used = (size_t)snprintf(sql, sizeof sql, "SELECT ");
  for (size_t i = 0; i < n; i++)
    used += (size_t)snprintf(sql + used, sizeof sql - used, "r.%s,", cols[i].name);
  snprintf(sql + used, sizeof sql - used,
           "u.started_utc,u.config_name,u.config_file,u.machine_fingerprint,u.git_revision,"
           "u.compiler,u.c_flags,u.build_type FROM results r LEFT JOIN runs u USING(run_id)"
           " WHERE (?1 IS NULL OR r.run_id=?1) AND (?2 IS NULL OR r.metric=?2)"
           " ORDER BY u.started_utc, r.seq");
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, err, "prepare results query");
  if (run_id) bind_text(st, 1, run_id);
  if (metric) bind_text(st, 2, metric);
  int rc;
  qb_result_row row;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    read_row(st, &row);
    const int k = (int)n;
    const qb_run_record rec = {row.run_id,
                               column_text(st, k),
                               column_text(st, k + 1),
                               column_text(st, k + 2),
                               "",
                               column_text(st, k + 3),
                               column_text(st, k + 4),
                               column_text(st, k + 5),
                               column_text(st, k + 6),
                               column_text(st, k + 7)};
    fn(&row, &rec, user);
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : db_fail(db, err, "query results");
}

int qb_results_db_run_field(qb_results_db* db, const char* run_id, const char* field, char* buf,
                            size_t size, qb_error* err) {
  static const char* const kFields[] = {"started_utc", "config_name", "config_file",
                                        "machine_fingerprint", "git_revision", "compiler",
                                        "c_flags", "build_type"};
  int known = 0;
  for (size_t i = 0; i < sizeof kFields / sizeof *kFields; i++) known |= !strcmp(field, kFields[i]);
  if (!known) return qb_fail(err, "runs table has no field '%s'", field);
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT %s FROM runs WHERE run_id=?1", field);
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, err, "prepare runs query");
  bind_text(st, 1, run_id);
  const int rc = sqlite3_step(st);
  int found = 0;
  if (rc == SQLITE_ROW) {
    snprintf(buf, size, "%s", column_text(st, 0));
    found = 1;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(db, err, "query runs");
  return found;
}

int qb_results_db_predictions(qb_results_db* db, const char* run_id, const char* key,
                              uint16_t** v, size_t* n, qb_error* err) {
  *v = NULL, *n = 0;
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db->db, "SELECT n, data FROM predictions WHERE run_id=?1 AND item_id=?2",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(db, err, "prepare predictions query");
  bind_text(st, 1, run_id);
  bind_text(st, 2, key);
  const int step = sqlite3_step(st);
  int rc = 0;
  if (step == SQLITE_ROW) {
    const void* blob = sqlite3_column_blob(st, 1);
    const int len = sqlite3_column_bytes(st, 1);
    const sqlite3_int64 want = sqlite3_column_int64(st, 0);
    if (!blob || len < 1 ||
        qb_predictions_decode(blob, (size_t)len, v, n) || (sqlite3_int64)*n != want) {
      free(*v);
      *v = NULL, *n = 0;
      rc = qb_fail(err, "%s: run %s: malformed predictions of %s", db->path, run_id, key);
    } else {
      rc = 1;
    }
  } else if (step != SQLITE_DONE) {
    rc = db_fail(db, err, "query predictions");
  }
  sqlite3_finalize(st);
  return rc;
}
