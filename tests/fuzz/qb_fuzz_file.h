/* Fuzz harness helper: the parsers that read a path get the fuzzer's bytes through a
 * file in one private temporary folder (created once per process, removed at exit). */
#ifndef QB_FUZZ_FILE_H
#define QB_FUZZ_FILE_H
#include <stddef.h>
#include <stdint.h>

/* The private folder ("/tmp/qb_fuzz.XXXXXX"); aborts if it cannot be made. */
const char* qb_fuzz_dir(void);
/* Writes bytes to <dir>/<name> (replacing it) and returns that path (static buffer). */
const char* qb_fuzz_write(const char* name, const uint8_t* data, size_t size);
#endif
