#include "qb_results_files.h"

#include "qb_file.h"

#include "qb_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- writing helpers ------------------------------------------------------------- */

/* Writes all bytes to fd, retrying on EINTR and short writes. */
static int write_all(int fd, const char* data, size_t size) {
  while (size) {
    const ssize_t w = write(fd, data, size);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    data += w;
    size -= (size_t)w;
  }
  return 0;
}

int qb_write_file_atomic(const char* path, const char* data, size_t size, qb_error* err) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return qb_fail(err, "%s: cannot write: %s", tmp, strerror(errno));
  if (write_all(fd, data, size) || fsync(fd)) {
    const int e = errno;
    close(fd);
    unlink(tmp);
    return qb_fail(err, "%s: write failed: %s", tmp, strerror(e));
  }
  close(fd);
  if (rename(tmp, path)) {
    const int e = errno;
    unlink(tmp);
    return qb_fail(err, "%s: cannot rename to %s: %s", tmp, path, strerror(e));
  }
  return 0;
}

static void csv_field(FILE* f, const char* s) {
  if (!strpbrk(s, ",\"")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void csv_header(FILE* f) {
  size_t n;
  const qb_result_column* cols = qb_result_columns(&n);
  for (size_t i = 0; i < n; i++) fprintf(f, "%s%s", i ? "," : "", cols[i].name);
  fputc('\n', f);
}

static void csv_rows(FILE* f, const qb_result_row* rows, size_t count) {
  size_t n;
  const qb_result_column* cols = qb_result_columns(&n);
  char cell[256];
  for (size_t r = 0; r < count; r++) {
    for (size_t i = 0; i < n; i++) {
      if (i) fputc(',', f);
      qb_result_cell(&rows[r], &cols[i], cell, sizeof cell);
      csv_field(f, cell);
    }
    fputc('\n', f);
  }
}

/* Renders into memory so that a row set reaches the file in one write(). */
static int render(void (*fn)(FILE*, const qb_result_row*, size_t, bool), const qb_result_row* rows,
                  size_t count, bool flag, char** data, size_t* size, qb_error* err) {
  FILE* m = open_memstream(data, size);
  if (!m) return qb_fail(err, "out of memory rendering %zu result rows", count);
  fn(m, rows, count, flag);
  if (fclose(m)) {
    free(*data);
    return qb_fail(err, "out of memory rendering %zu result rows", count);
  }
  return 0;
}

static void csv_render(FILE* f, const qb_result_row* rows, size_t count, bool header) {
  if (header) csv_header(f);
  csv_rows(f, rows, count);
}

int qb_results_csv_append(const char* path, const qb_result_row* rows, size_t count,
                          qb_error* err) {
  const int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return qb_fail(err, "%s: cannot append: %s", path, strerror(errno));
  const off_t end = lseek(fd, 0, SEEK_END);
  char* data = NULL;
  size_t size = 0;
  if (render(csv_render, rows, count, end == 0, &data, &size, err)) {
    close(fd);
    return -1;
  }
  const int bad = write_all(fd, data, size) || fsync(fd);
  const int e = errno;
  free(data);
  close(fd);
  return bad ? qb_fail(err, "%s: write failed: %s", path, strerror(e)) : 0;
}

int qb_results_csv_rewrite(const char* path, const qb_result_row* rows, size_t count,
                           qb_error* err) {
  char* data = NULL;
  size_t size = 0;
  if (render(csv_render, rows, count, true, &data, &size, err)) return -1;
  const int rc = qb_write_file_atomic(path, data, size, err);
  free(data);
  return rc;
}

/* ---- reading --------------------------------------------------------------------- */

/* Splits one CSV line (no newline) into at most max fields, in place; returns the
 * field count, or -1 for an unterminated quote. */
static int csv_split(char* line, char** fields, int max) {
  int n = 0;
  char* r = line;
  for (;;) {
    if (n == max) return max + 1;
    char* w = r;
    fields[n++] = w;
    if (*r == '"') {
      r++;
      for (;;) {
        if (!*r) return -1;
        if (*r == '"') {
          if (r[1] != '"') break;
          r++;
        }
        *w++ = *r++;
      }
      r++; /* closing quote */
      if (*r && *r != ',') return -1;
    } else {
      while (*r && *r != ',') *w++ = *r++;
    }
    const char sep = *r;
    *w = '\0';
    if (!sep) return n;
    r++;
  }
}

/* Parses one row of `nfields` fields (the header's count: the full schema, or the
 * older one without the trailing columns, which are then left empty). */
static int parse_line(const char* path, size_t lineno, char* line, size_t nfields,
                      qb_result_rows* out, qb_error* err) {
  const qb_result_column* cols = qb_result_columns(&(size_t){0});
  char* fields[32];
  const int n = csv_split(line, fields, 31);
  if (n != (int)nfields)
    return qb_fail(err, "%s:%zu: expected %zu fields, got %d", path, lineno, nfields, n);
  qb_result_row* row = qb_result_rows_add(out, "", "", 0, "", 0.0, "");
  if (!row) return qb_fail(err, "%s: out of memory", path);
  for (size_t i = 0; i < nfields; i++)
    if (qb_result_set_cell(row, &cols[i], fields[i]))
      return qb_fail(err, "%s:%zu: column %s: expected a number, got '%s'", path, lineno,
                     cols[i].name, fields[i]);
  return 0;
}

/* The header line: every column of the schema, or (a file written before
 * evaluated_on and exact_check) the first QB_RESULT_COLUMNS_V1 of them. Sets the
 * field count of the rows that follow. */
static int check_header(const char* path, char* line, size_t* nfields, qb_error* err) {
  size_t ncols;
  const qb_result_column* cols = qb_result_columns(&ncols);
  char* data = NULL;
  size_t size = 0;
  FILE* m = open_memstream(&data, &size);
  if (!m) return qb_fail(err, "out of memory");
  csv_header(m);
  fclose(m);
  data[size - 1] = '\0'; /* drop the newline */
  size_t v1 = 0; /* length of the first QB_RESULT_COLUMNS_V1 names, commas included */
  for (size_t i = 0; i < QB_RESULT_COLUMNS_V1; i++) v1 += strlen(cols[i].name) + (i ? 1 : 0);
  int rc = 0;
  if (!strcmp(data, line)) *nfields = ncols;
  else if (strlen(line) == v1 && !strncmp(data, line, v1)) *nfields = QB_RESULT_COLUMNS_V1;
  else rc = qb_fail(err, "%s:1: expected the header '%s', got '%.200s'", path, data, line);
  free(data);
  return rc;
}

int qb_results_csv_read(const char* path, qb_result_rows* out, bool* torn, qb_error* err) {
  *torn = false;
  FILE* f = qb_open_input(path, QB_INPUT_MAX_BYTES, NULL, err);
  if (!f) return errno == ENOENT ? 0 : -1;
  char* line = NULL;
  size_t cap = 0;
  ssize_t len;
  size_t lineno = 0, nfields = 0;
  int rc = 0;
  while (!rc && (len = getline(&line, &cap, f)) > 0) {
    lineno++;
    if (line[len - 1] != '\n') {
      *torn = true; /* an append cut short: not a row */
      break;
    }
    line[len - 1] = '\0';
    if (len >= 2 && line[len - 2] == '\r') line[len - 2] = '\0';
    rc = lineno == 1 ? check_header(path, line, &nfields, err)
                     : parse_line(path, lineno, line, nfields, out, err);
  }
  free(line);
  fclose(f);
  return rc;
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_render(FILE* f, const qb_result_row* rows, size_t count, bool unused) {
  size_t n;
  const qb_result_column* cols = qb_result_columns(&n);
  char cell[256];
  fputs("[", f);
  for (size_t r = 0; r < count; r++) {
    fputs(r ? ",\n {" : "\n {", f);
    for (size_t i = 0; i < n; i++) {
      fprintf(f, "%s\"%s\": ", i ? ", " : "", cols[i].name);
      qb_result_cell(&rows[r], &cols[i], cell, sizeof cell);
      if (cols[i].type == QB_COL_TEXT) qb_json_string(f, cell);
      else if (cols[i].type == QB_COL_REAL && (!cell[0] || strstr(cell, "inf"))) fputs("null", f);
      else fputs(cell, f);
    }
    fputs("}", f);
  }
  fputs(count ? "\n]\n" : "]\n", f);
}

int qb_results_json_write(const char* path, const qb_result_row* rows, size_t count,
                          qb_error* err) {
  char* data = NULL;
  size_t size = 0;
  if (render(json_render, rows, count, false, &data, &size, err)) return -1;
  const int rc = qb_write_file_atomic(path, data, size, err);
  free(data);
  return rc;
}

int qb_mkdir_p(const char* path, qb_error* err) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char* p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0755) && errno != EEXIST)
        return qb_fail(err, "%s: cannot create folder: %s", tmp, strerror(errno));
      *p = '/';
    }
  if (mkdir(tmp, 0755) && errno != EEXIST)
    return qb_fail(err, "%s: cannot create folder: %s", tmp, strerror(errno));
  return 0;
}
