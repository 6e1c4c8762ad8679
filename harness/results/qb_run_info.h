/* run.json: what a run needs to be understood later, written once when the run
 * starts: run id, start time, the machine (harness/sys/qb_machine: libcpuid, hwloc
 * and CPUID views, fingerprint), the compiler and flags qbench was built with, the
 * source tree's git revision ("-dirty" when tracked files are modified; "unknown"
 * outside a git checkout), the backends usable here, the config file and its text,
 * and the plan's size.
 *
 * JSON keys: run_id, started_utc, git_revision, compiler, build_type, c_flags,
 * backends_usable[], machine{...} (qb_machine_write_json) or null, config_file,
 * config_text, plan{items, skipped, combinations}. */
#ifndef QB_RUN_INFO_H
#define QB_RUN_INFO_H

#include <stdbool.h>
#include <stddef.h>

#include "qb_error.h"
#include "qb_machine.h"

typedef struct {
  char run_id[96];
  char started_utc[32];
  char git_revision[96];
  char compiler[128];
  char build_type[32];
  char c_flags[512];
  bool have_machine;
  qb_machine machine;
} qb_run_info;

/* Fills everything but the config and plan. describe_machine false (tests) skips
 * libcpuid/hwloc; the fingerprint is then "unknown". */
int qb_run_info_collect(qb_run_info* info, const char* run_id, bool describe_machine,
                        qb_error* err);
const char* qb_run_info_fingerprint(const qb_run_info* info);

/* "YYYYMMDDTHHMMSSZ" (UTC): the stamp of run folder names. */
void qb_utc_stamp(char* buf, size_t size);

int qb_run_info_write_json(const char* path, const qb_run_info* info, const char* config_file,
                           const char* config_text, size_t plan_items, size_t plan_skipped,
                           qb_error* err);

#endif
