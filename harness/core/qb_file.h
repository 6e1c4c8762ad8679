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

#endif
