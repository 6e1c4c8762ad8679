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
#include "qb_json.h"

enum { QB_EXIT_OK = 0, QB_EXIT_FAILURE = 1, QB_EXIT_USAGE = 2 };

typedef struct {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv); /* argv[0] is the subcommand name */
  void (*help)(void);
} qb_command;

int qb_cmd_tensor(int argc, char** argv);
void qb_cmd_tensor_help(void);
int qb_cmd_train(int argc, char** argv);
void qb_cmd_train_help(void);
int qb_cmd_qat(int argc, char** argv);
void qb_cmd_qat_help(void);
int qb_cmd_sweep(int argc, char** argv);
void qb_cmd_sweep_help(void);
int qb_cmd_merge(int argc, char** argv);
void qb_cmd_merge_help(void);
int qb_cmd_info(int argc, char** argv);
void qb_cmd_info_help(void);
int qb_cmd_bench(int argc, char** argv);
void qb_cmd_bench_help(void);
int qb_cmd_eval(int argc, char** argv);
void qb_cmd_eval_help(void);
int qb_cmd_compare(int argc, char** argv);
void qb_cmd_compare_help(void);
int qb_cmd_report(int argc, char** argv);
void qb_cmd_report_help(void);
int qb_cmd_recommend(int argc, char** argv);
void qb_cmd_recommend_help(void);
int qb_cmd_history(int argc, char** argv);
void qb_cmd_history_help(void);
int qb_cmd_hardware(int argc, char** argv);
void qb_cmd_hardware_help(void);
int qb_cmd_ocr_data(int argc, char** argv);
void qb_cmd_ocr_data_help(void);

/* Prints "qbench CMD: error: MESSAGE" to stderr and returns QB_EXIT_USAGE. */
int qb_cli_usage_error(const char* cmd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/* Splits a comma-separated list in place; returns the count (at most max). */
size_t qb_cli_split_list(char* text, char** items, size_t max);

/* Strict integer parse: the whole string, within [lo, hi]. */
bool qb_cli_parse_long(const char* text, long lo, long hi, long* out);

/* JSON: a double, or null for non-finite values; strings: qb_json_string (qb_json.h). */
void qb_json_number(FILE* f, double v);

#endif
