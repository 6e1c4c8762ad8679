/* results.csv and results.json of a run folder.
 *
 * results.csv: a header line with the column names of qb_result.h, then one line per
 * row; fields containing ',' or '"' are quoted (RFC 4180), newlines never occur (the
 * row setters replace them). Rows are appended a whole item at a time with one
 * write() followed by fsync, so after a crash only the last line can be torn; the
 * reader reports such a line (no final newline) instead of parsing it.
 *
 * results.json: one JSON array of row objects (keys = column names; non-finite
 * values are null), always replaced atomically (written to results.json.tmp, then
 * renamed), so a reader never sees half a file. */
#ifndef QB_RESULTS_FILES_H
#define QB_RESULTS_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "qb_result.h"

/* Appends rows (writing the header first if the file is new or empty). */
int qb_results_csv_append(const char* path, const qb_result_row* rows, size_t count,
                          qb_error* err);
/* Reads every complete row into `out` (appended). *torn is set when the last line has
 * no newline (it is then ignored). A missing file reads as no rows. Bad header or a
 * malformed line: "FILE:LINE: expected ..., got ...". */
int qb_results_csv_read(const char* path, qb_result_rows* out, bool* torn, qb_error* err);
/* Replaces the file with exactly these rows (tmp + rename). */
int qb_results_csv_rewrite(const char* path, const qb_result_row* rows, size_t count,
                           qb_error* err);

/* Replaces results.json with these rows (tmp + rename). */
int qb_results_json_write(const char* path, const qb_result_row* rows, size_t count,
                          qb_error* err);

/* Writes `size` bytes to path.tmp, fsyncs, renames over path. */
int qb_write_file_atomic(const char* path, const char* data, size_t size, qb_error* err);

/* Creates the folder and its missing parents ("PATH: cannot create folder: ..."). */
int qb_mkdir_p(const char* path, qb_error* err);

#endif
