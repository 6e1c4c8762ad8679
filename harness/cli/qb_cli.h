/* The qbench command line: one binary, one subcommand per job.
 *
 * Exit codes (scripts may rely on them):
 *   0  success
 *   1  the job ran and found a failure it was asked to detect (e.g. a regression)
 *      or failed at run time
 *   2  usage error or bad input (unknown option, unreadable or malformed file) */
#ifndef QB_CLI_H
#define QB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "qb_error.h"

enum { QB_EXIT_OK = 0, QB_EXIT_FAILURE = 1, QB_EXIT_USAGE = 2 };

typedef struct {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv); /* argv[0] is the subcommand name */
  void (*help)(void);
} qb_command;

int qb_cmd_tensor(int argc, char** argv);
void qb_cmd_tensor_help(void);
int qb_cmd_demo(int argc, char** argv);
void qb_cmd_demo_help(void);

/* Prints "qbench CMD: error: MESSAGE" to stderr and returns QB_EXIT_USAGE. */
int qb_cli_usage_error(const char* cmd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/* Splits a comma-separated list in place; returns the count (at most max). */
size_t qb_cli_split_list(char* text, char** items, size_t max);

/* Strict integer parse: the whole string, within [lo, hi]. */
bool qb_cli_parse_long(const char* text, long lo, long hi, long* out);

/* JSON helpers: a double or null for non-finite values; a string with escapes. */
void qb_json_number(FILE* f, double v);
void qb_json_string(FILE* f, const char* s);

#endif
