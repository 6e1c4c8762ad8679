/* Opening a file qbench reads as input (run-folder files, configs, .npy): only a
 * regular file of at most max_bytes is opened. A FIFO would block the reader and
 * /dev/zero never ends; both are refused before anything is read. */
#ifndef QB_FILE_H
#define QB_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "qb_error.h"

/* Largest run-folder file or config qbench reads (1 GiB). */
#define QB_INPUT_MAX_BYTES ((size_t)1 << 30)

/* fopen(path, "rb") of a regular file of at most max_bytes. NULL with err filled
 * ("PATH: cannot read: ...", "PATH: not a regular file", "PATH: N bytes, more than
 * ..."); errno stays ENOENT for a missing file. *size (if not NULL) gets its size. */
FILE* qb_open_input(const char* path, size_t max_bytes, size_t* size, qb_error* err);

/* Reads a whole input file (qb_open_input rules) into a NUL-terminated buffer the
 * caller frees; *len (if not NULL) gets its size in bytes. */
int qb_file_read_all(const char* path, size_t max_bytes, char** text, size_t* len, qb_error* err);

/* Closes an output file catching every write error (an earlier failed write, the final
 * flush, close: a full disk). On error, a regular file at path is removed, so that no
 * empty or truncated file is left claiming success ("PATH: write failed: ...").
 * f may be NULL (then only the message). */
int qb_close_output(FILE* f, const char* path, qb_error* err);

/* Removes path if it is a regular file (never a device such as /dev/full). */
void qb_remove_regular(const char* path);

#endif
