/* qbench info: what this machine is and what qbench will run on it — CPU identity
 * (libcpuid), topology and caches (hwloc), ISA flags (CPUID/XGETBV, the view that
 * dispatch uses), every flag on which libcpuid and CPUID disagree, the built /
 * detected / allowed / usable backends, the backend table (rank, exactness, fallback
 * chain, roofline ceilings), and the kernel each usable backend's
 * dispatch table holds per family. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "isa/qb_isa.h"
#include "qb_catalog.h"
#include "qb_cli.h"

void qb_cmd_info_help(void) {
  printf(
      "usage: qbench info [--json] [--isa LIST]\n\n"
      "Describe this machine and the kernels qbench would run on it: CPU identity\n"
      "(libcpuid), packages/cores/PUs and caches (hwloc), ISA flags as dispatch sees\n"
      "them (CPUID + XGETBV), every disagreement between libcpuid and CPUID, the\n"
      "built, detected, allowed and usable backends, and per usable backend the\n"
      "kernel chosen for each kernel family.\n\n"
      "options:\n"
      "  --json        one JSON object instead of text\n"
      "  --isa LIST    allow only these backends (comma-separated: scalar, sse41,\n"
      "                avx2, avx2-sat, avx512vnni, neon, neondot, i8mm); overrides the\n"
      "                QB_ISA_MASK environment variable. scalar is always usable.\n"
      "  -h, --help    this help\n");
}

/* ----------------------------------------------------------------- ISA flags */
typedef struct {
  const char* key;
  bool value;
} flag;

static size_t isa_flags(flag* out) {
  const qb_isa_features* f = qb_isa_features_get();
  size_t n = 0;
#if defined(__x86_64__) || defined(__i386__)
  const flag x86[] = {{"sse41", f->x86_sse41},         {"osxsave", f->x86_osxsave},
                      {"avx", f->x86_avx},             {"fma", f->x86_fma},
                      {"f16c", f->x86_f16c},           {"avx2", f->x86_avx2},
                      {"os_ymm", f->x86_os_ymm},       {"os_zmm", f->x86_os_zmm},
                      {"avx512f", f->x86_avx512f},     {"avx512bw", f->x86_avx512bw},
                      {"avx512vl", f->x86_avx512vl},   {"avx512dq", f->x86_avx512dq},
                      {"avx512_vnni", f->x86_avx512_vnni}, {"avx_vnni", f->x86_avx_vnni}};
  for (size_t i = 0; i < sizeof x86 / sizeof x86[0]; i++) out[n++] = x86[i];
#else
  const flag arm[] = {{"asimd", f->arm_asimd}, {"asimddp", f->arm_asimddp}, {"i8mm", f->arm_i8mm}};
  for (size_t i = 0; i < sizeof arm / sizeof arm[0]; i++) out[n++] = arm[i];
#endif
  return n;
}

/* ------------------------------------------------------------ backend table */
/* Rows of this build's architecture (and scalar), in the table's order. */
static bool row_here(const qb_backend_desc* d) {
#if defined(__x86_64__) || defined(__i386__)
  return d->arch == QB_ARCH_ANY || d->arch == QB_ARCH_X86;
#elif defined(__aarch64__)
  return d->arch == QB_ARCH_ANY || d->arch == QB_ARCH_ARM64;
#else
  return d->arch == QB_ARCH_ANY;
#endif
}

static void chain_text(qb_backend b, char* buf, size_t size) {
  qb_backend chain[QB_BACKEND_COUNT];
  const size_t n = qb_dispatch_fallback_chain(b, chain);
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ">" : "", qb_backend_name(chain[i]));
}

static void write_backend_table_text(void) {
  printf("\nbackend table (kernels/isa/qb_backend_table.c)\n");
  printf("  %-11s %-6s %-5s %-30s %-17s %-13s %s\n", "backend", "rank", "exact", "fallback chain",
         "int8 ceiling", "fp32 ceiling", "instructions");
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const qb_backend_desc* d = qb_backend_describe((qb_backend)b);
    if (!row_here(d)) continue;
    char chain[96];
    chain_text(d->id, chain, sizeof chain);
    printf("  %-11s %-6u %-5s %-30s %-17s %-13s %s\n", d->name, d->best_rank,
           d->exact ? "yes" : "no", chain, d->roof_int8 ? d->roof_int8 : "-",
           d->roof_fp32 ? d->roof_fp32 : "-", d->summary);
  }
}

static void write_backend_table_json(void) {
  fputs(",\n\"backend_table\": [", stdout);
  int first = 1;
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const qb_backend_desc* d = qb_backend_describe((qb_backend)b);
    if (!row_here(d)) continue;
    qb_backend chain[QB_BACKEND_COUNT];
    const size_t n = qb_dispatch_fallback_chain(d->id, chain);
    printf("%s\n  {\"name\": \"%s\", \"best_rank\": %u, \"exact\": %s, \"fallback\": [",
           first ? "" : ",", d->name, d->best_rank, d->exact ? "true" : "false");
    first = 0;
    for (size_t i = 0; i < n; i++) printf("%s\"%s\"", i ? ", " : "", qb_backend_name(chain[i]));
    fputs("], \"roof_int8\": ", stdout);
    qb_json_string(stdout, d->roof_int8 ? d->roof_int8 : "");
    fputs(", \"roof_fp32\": ", stdout);
    qb_json_string(stdout, d->roof_fp32 ? d->roof_fp32 : "");
    fputs(", \"summary\": ", stdout);
    qb_json_string(stdout, d->summary);
    fputs("}", stdout);
  }
  fputs("]", stdout);
}

/* ------------------------------------------------------------------- text */
static void write_text(const qb_machine* m) {
  qb_machine_write_text(m, stdout);
  const qb_isa_features* f = qb_isa_features_get();
  flag flags[32];
  const size_t nflags = isa_flags(flags);
#if defined(__x86_64__) || defined(__i386__)
  printf("\nisa (CPUID/XGETBV, used by dispatch): %s, max leaf %" PRIu32 ", XCR0 0x%" PRIx64 "\n ",
         f->x86_vendor, f->x86_max_leaf, f->x86_xcr0);
#else
  printf("\nisa (getauxval, used by dispatch): HWCAP 0x%lx HWCAP2 0x%lx\n ", f->arm_hwcap,
         f->arm_hwcap2);
#endif
  for (size_t i = 0; i < nflags; i++) printf(" %s=%d", flags[i].key, flags[i].value);
  char buf[1024];
  const int nd = qb_machine_isa_disagreements(m, buf, sizeof buf);
  /* The machine description above already lists them on its WARNING line. */
  if (nd > 0)
    printf("\nisa disagreements (libcpuid vs CPUID): %d, listed on the WARNING line above; "
           "dispatch trusts CPUID\n", nd);
  else
    printf("\nisa disagreements (libcpuid vs CPUID): none\n");

  char list[256];
  printf("\nbackends\n");
  qb_catalog_backend_list(qb_isa_built(), list, sizeof list);
  printf("  built     %s\n", list);
  qb_catalog_backend_list(qb_isa_detected(), list, sizeof list);
  printf("  detected  %s\n", list);
  qb_catalog_backend_list(qb_isa_mask(), list, sizeof list);
  printf("  allowed   %s\n", list);
  qb_catalog_backend_list(qb_isa_usable_set(), list, sizeof list);
  printf("  usable    %s\n", list);
  printf("  best      %s\n", qb_backend_name(qb_dispatch_best()->backend));
  write_backend_table_text();
  printf("\nfp32 path (Gemm / MatMul / Conv of fp32 runs and fp32 layers)\n  gemm      %s\n",
         qb_dispatch_best()->f32_gemm->info.name);

  size_t nfam;
  const qb_catalog_family* fam = qb_catalog_families(&nfam);
  printf("\nkernels chosen per usable backend\n");
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const qb_dispatch_table* t = qb_dispatch_get((qb_backend)b);
    if (!t) continue;
    for (size_t i = 0; i < nfam; i++) {
      const qb_catalog_kernel e = fam[i].chosen(t);
      char tile[48] = "";
      if (e.mr) snprintf(tile, sizeof tile, " %ux%uc%u", e.mr, e.nr, e.kr);
      printf("  %-11s %-28s %s%s%s\n", i ? "" : qb_backend_name((qb_backend)b), fam[i].name,
             e.name, tile, e.exact ? "" : " (not exact)");
    }
  }
}

/* ------------------------------------------------------------------- JSON */
static void write_json(const qb_machine* m) {
  fputs("{\n\"machine\": ", stdout);
  qb_machine_write_json(m, stdout);
  const qb_isa_features* f = qb_isa_features_get();
  fputs(",\n\"isa\": {", stdout);
#if defined(__x86_64__) || defined(__i386__)
  fputs("\"source\": \"cpuid\", \"vendor\": ", stdout);
  qb_json_string(stdout, f->x86_vendor);
  printf(", \"max_leaf\": %" PRIu32 ", \"xcr0\": %" PRIu64, f->x86_max_leaf, f->x86_xcr0);
#else
  printf("\"source\": \"getauxval\", \"hwcap\": %lu, \"hwcap2\": %lu", f->arm_hwcap, f->arm_hwcap2);
#endif
  flag flags[32];
  const size_t nflags = isa_flags(flags);
  for (size_t i = 0; i < nflags; i++)
    printf(", \"%s\": %s", flags[i].key, flags[i].value ? "true" : "false");
  fputs("},\n\"isa_disagreement_count\": ", stdout);
  printf("%d", qb_machine_isa_disagreements(m, NULL, 0));

  fputs(",\n\"backends\": {\"built\": ", stdout);
  qb_catalog_backend_json(qb_isa_built(), stdout);
  fputs(", \"detected\": ", stdout);
  qb_catalog_backend_json(qb_isa_detected(), stdout);
  fputs(", \"allowed\": ", stdout);
  qb_catalog_backend_json(qb_isa_mask(), stdout);
  fputs(", \"usable\": ", stdout);
  qb_catalog_backend_json(qb_isa_usable_set(), stdout);
  printf(", \"best\": \"%s\"}", qb_backend_name(qb_dispatch_best()->backend));
  write_backend_table_json();
  printf(",\n\"fp32_gemm\": \"%s\",\n\"kernels\": {", qb_dispatch_best()->f32_gemm->info.name);

  size_t nfam;
  const qb_catalog_family* fam = qb_catalog_families(&nfam);
  int first = 1;
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const qb_dispatch_table* t = qb_dispatch_get((qb_backend)b);
    if (!t) continue;
    printf("%s\n  \"%s\": {", first ? "" : ",", qb_backend_name((qb_backend)b));
    first = 0;
    for (size_t i = 0; i < nfam; i++) {
      const qb_catalog_kernel e = fam[i].chosen(t);
      printf("%s\n    \"%s\": {\"name\": \"%s\", \"backend\": \"%s\", \"exact\": %s",
             i ? "," : "", fam[i].name, e.name, qb_backend_name(e.backend),
             e.exact ? "true" : "false");
      if (e.mr) printf(", \"mr\": %u, \"nr\": %u, \"kr\": %u", e.mr, e.nr, e.kr);
      fputs("}", stdout);
    }
    fputs("}", stdout);
  }
  fputs("\n}\n}\n", stdout);
}

int qb_cmd_info(int argc, char** argv) {
  static const struct option longopts[] = {{"json", no_argument, 0, 'j'},
                                           {"isa", required_argument, 0, 'i'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  bool json = false;
  const char* isa = NULL;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 'j': json = true; break;
      case 'i': isa = optarg; break;
      case 'h': qb_cmd_info_help(); return QB_EXIT_OK;
      case ':': return qb_cli_usage_error("info", "%s needs a value", argv[optind - 1]);
      default: return qb_cli_usage_error("info", "unknown option '%s' (see --help)", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return qb_cli_usage_error("info", "unexpected argument '%s' (see --help)", argv[optind]);
  qb_error err;
  if (isa && qb_catalog_set_isa(isa, &err) != 0) return qb_cli_usage_error("info", "%s", err.msg);
  qb_machine m;
  if (qb_catalog_machine_describe(&m, &err) != 0) {
    fprintf(stderr, "qbench info: error: %s\n", err.msg);
    return QB_EXIT_FAILURE;
  }
  if (json)
    write_json(&m);
  else
    write_text(&m);
  return QB_EXIT_OK;
}
