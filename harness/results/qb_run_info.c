#include "qb_run_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isa/qb_isa.h"
#include "qb_catalog.h"
#include "qb_results_files.h"

#ifndef QB_SOURCE_DIR
#define QB_SOURCE_DIR "."
#endif
#ifndef QB_C_FLAGS
#define QB_C_FLAGS ""
#endif
#ifndef QB_BUILD_TYPE
#define QB_BUILD_TYPE ""
#endif

void qb_utc_stamp(char* buf, size_t size) {
  const time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y%m%dT%H%M%SZ", &tm);
}

/* First line of a shell command's output ("" if it fails or prints nothing). */
static void command_line(const char* cmd, char* buf, size_t size) {
  buf[0] = '\0';
  FILE* p = popen(cmd, "r");
  if (!p) return;
  if (fgets(buf, (int)size, p)) buf[strcspn(buf, "\r\n")] = '\0';
  else buf[0] = '\0';
  if (pclose(p) != 0) buf[0] = '\0';
}

/* The revision of the source tree qbench was built from, read at run time (a
 * configure-time value would go stale between rebuilds). */
static void git_revision(char* buf, size_t size) {
  char rev[80], dirty[8];
  command_line("git -C '" QB_SOURCE_DIR "' rev-parse HEAD 2>/dev/null", rev, sizeof rev);
  if (!rev[0]) {
    snprintf(buf, size, "unknown");
    return;
  }
  command_line("git -C '" QB_SOURCE_DIR "' status --porcelain --untracked-files=no 2>/dev/null",
               dirty, sizeof dirty);
  snprintf(buf, size, "%s%s", rev, dirty[0] ? "-dirty" : "");
}

int qb_run_info_collect(qb_run_info* info, const char* run_id, bool describe_machine,
                        qb_error* err) {
  memset(info, 0, sizeof *info);
  snprintf(info->run_id, sizeof info->run_id, "%s", run_id);
  const time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(info->started_utc, sizeof info->started_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
  git_revision(info->git_revision, sizeof info->git_revision);
#if defined(__clang__)
  snprintf(info->compiler, sizeof info->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
  snprintf(info->compiler, sizeof info->compiler, "gcc %s", __VERSION__);
#else
  snprintf(info->compiler, sizeof info->compiler, "unknown");
#endif
  snprintf(info->build_type, sizeof info->build_type, "%s", QB_BUILD_TYPE);
  snprintf(info->c_flags, sizeof info->c_flags, "%s", QB_C_FLAGS);
  if (describe_machine) {
    if (qb_catalog_machine_describe(&info->machine, err)) return -1;
    info->have_machine = true;
  }
  return 0;
}

const char* qb_run_info_fingerprint(const qb_run_info* info) {
  return info->have_machine ? info->machine.fingerprint : "unknown";
}

static void render(FILE* f, const qb_run_info* info, const char* config_file,
                   const char* config_text, size_t items, size_t skipped) {
  fputs("{\n  \"run_id\": ", f);
  qb_json_string(f, info->run_id);
  fputs(",\n  \"started_utc\": ", f);
  qb_json_string(f, info->started_utc);
  fputs(",\n  \"git_revision\": ", f);
  qb_json_string(f, info->git_revision);
  fputs(",\n  \"compiler\": ", f);
  qb_json_string(f, info->compiler);
  fputs(",\n  \"build_type\": ", f);
  qb_json_string(f, info->build_type);
  fputs(",\n  \"c_flags\": ", f);
  qb_json_string(f, info->c_flags);
  fputs(",\n  \"backends_usable\": [", f);
  const qb_backend_set usable = qb_isa_usable_set();
  int n = 0;
  for (int b = 0; b < QB_BACKEND_COUNT; b++)
    if (usable & QB_BACKEND_BIT(b)) {
      fputs(n++ ? ", " : "", f);
      qb_json_string(f, qb_backend_name((qb_backend)b));
    }
  /* The fp32 path every fp32 Gemm / MatMul / Conv of the run takes. */
  fputs("],\n  \"fp32_gemm\": ", f);
  qb_json_string(f, qb_dispatch_best()->f32_gemm->info.name);
  fputs(",\n  \"machine\": ", f);
  if (info->have_machine) qb_machine_write_json(&info->machine, f);
  else fputs("null", f);
  fputs(",\n  \"config_file\": ", f);
  qb_json_string(f, config_file);
  fputs(",\n  \"config_text\": ", f);
  qb_json_string(f, config_text ? config_text : "");
  fprintf(f, ",\n  \"plan\": {\"items\": %zu, \"skipped\": %zu, \"combinations\": %zu}\n}\n",
          items, skipped, items + skipped);
}

int qb_run_info_write_json(const char* path, const qb_run_info* info, const char* config_file,
                           const char* config_text, size_t plan_items, size_t plan_skipped,
                           qb_error* err) {
  char* data = NULL;
  size_t size = 0;
  FILE* m = open_memstream(&data, &size);
  if (!m) return qb_fail(err, "%s: out of memory", path);
  render(m, info, config_file, config_text, plan_items, plan_skipped);
  if (fclose(m)) {
    free(data);
    return qb_fail(err, "%s: out of memory", path);
  }
  const int rc = qb_write_file_atomic(path, data, size, err);
  free(data);
  return rc;
}
