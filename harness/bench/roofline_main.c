/* qbench-roofline: measure (or recall) this machine's compute and bandwidth
 * ceilings. To be folded into `qbench info` / `qbench bench`. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/qb_isa.h"
#include "qb_machine.h"
#include "qb_roofline.h"

/* The CPUID view (raw feature bits, as libcpuid reports them) for the comparison
 * in the machine description. */
static void set_cpuid_view(qb_machine* m) {
  const qb_isa_features* f = qb_isa_features_get();
  qb_isa_view v = {.sse41 = f->x86_sse41,
                   .avx2 = f->x86_avx2,
                   .fma = f->x86_fma,
                   .avx512f = f->x86_avx512f,
                   .avx512bw = f->x86_avx512bw,
                   .avx512vl = f->x86_avx512vl,
                   .avx512vnni = f->x86_avx512_vnni};
  qb_machine_set_cpuid_view(m, &v);
}

static void usage(FILE* f) {
  fputs("usage: qbench-roofline [options]\n"
        "\n"
        "Measures int8/fp32 compute ceilings per backend and L1/L2/L3/DRAM read\n"
        "bandwidth on 1 thread and on N threads (one per core, bound with hwloc), and\n"
        "caches the result per machine fingerprint (about 10 s the first time).\n"
        "\n"
        "  --json          print JSON instead of a table\n"
        "  --force         re-measure even if a cached result exists\n"
        "  --threads N     N for the multi-threaded column (default: cores)\n"
        "  --cache PATH    cache file (default: $XDG_CACHE_HOME/qbench/ or\n"
        "                  ~/.cache/qbench/roofline-<fingerprint>.json)\n"
        "  --no-cache      neither read nor write a cache file\n"
        "  --quick         1 short run per figure, 64 MiB DRAM set, no cache unless\n"
        "                  --cache is given: a smoke test, not a measurement\n"
        "  --machine       print the machine description (text, or JSON with --json)\n"
        "                  and exit\n"
        "  --quiet         no progress lines on stderr\n"
        "  -h, --help      this text\n",
        f);
}

int main(int argc, char** argv) {
  bool json = false, machine_only = false, quick = false, quiet = false, no_cache = false;
  qb_roofline_options opt = qb_roofline_default_options();
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (!strcmp(a, "--json")) json = true;
    else if (!strcmp(a, "--force")) opt.force = true;
    else if (!strcmp(a, "--machine")) machine_only = true;
    else if (!strcmp(a, "--quick")) quick = true;
    else if (!strcmp(a, "--quiet")) quiet = true;
    else if (!strcmp(a, "--no-cache")) no_cache = true;
    else if (!strcmp(a, "--cache") && i + 1 < argc) opt.cache_path = argv[++i];
    else if (!strcmp(a, "--threads") && i + 1 < argc) {
      char* end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > 1024) {
        fprintf(stderr, "qbench-roofline: --threads: '%s' is not a count in 1..1024\n", argv[i]);
        return 2;
      }
      opt.threads = (int)n;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "qbench-roofline: unknown argument '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  qb_machine m;
  qb_error err;
  if (qb_machine_describe(&m, &err) != 0) {
    fprintf(stderr, "qbench-roofline: %s\n", err.msg);
    return 1;
  }
  set_cpuid_view(&m);
  if (machine_only) {
    if (json) {
      qb_machine_write_json(&m, stdout);
      fputc('\n', stdout);
    } else {
      qb_machine_write_text(&m, stdout);
    }
    return 0;
  }
  if (quick) {
    opt.repetitions = 1;
    opt.rep_seconds = 0.002;
    opt.dram_bytes = 64ll * 1024 * 1024;
    if (!opt.cache_path) no_cache = true;
  }
  if (no_cache) opt.cache_path = "";
  opt.progress = !quiet;
  qb_roofline r;
  if (qb_roofline_get(&m, &opt, &r, &err) != 0) {
    fprintf(stderr, "qbench-roofline: %s\n", err.msg);
    return 1;
  }
  if (json)
    qb_roofline_write_json(&r, stdout);
  else
    qb_roofline_write_text(&r, stdout);
  return 0;
}
