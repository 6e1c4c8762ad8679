/* qbench bench: Google Benchmark runs of every kernel family of every usable backend
 * (GEMMs on a shape set and the peers found at build time — oneDNN int8 matmul,
 * OpenBLAS sgemm; the fused requantizing GEMM; quantize / dequantize / requantize;
 * convolutions on request), over thread counts, with OPS, bytes moved and % of this
 * machine's measured roofline ceilings (harness/bench/qb_bench_*.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/qb_isa.h"
#include "qb_bench_conv.h"
#include "qb_bench_gemm.h"
#include "qb_bench_q8elem.h"
#include "qb_catalog.h"
#include "qb_bench_shapes.h"
#include "qb_cli.h"
#include "qb_file.h"
#include "qb_json_scan.h"
#include "qb_run_data.h"
#include "qb_gbench.h"
#include "qb_roofline.h"
#include "qb_run_info.h"
#include "qb_thread_pool.h"

enum { MAX_THREAD_COUNTS = 16, MAX_IMPLS = 96 };

/* Kernel groups of --kernels. */
enum { K_GEMM = 1, K_FUSED = 2, K_ELEMENTWISE = 4, K_CONV = 8, K_ALL = 15 };

void qb_cmd_bench_help(void) {
  printf(
      "usage: qbench bench [options]\n\n"
      "Benchmark every kernel family of every usable backend with Google Benchmark,\n"
      "on each thread count, in groups (--kernels):\n"
      "  gemm         on each shape: int8 GEMMs u8 x s8, qs8 x qs8 and qu8 x qu8 -> s32,\n"
      "               int4-weight GEMMs (W4A8, W4A32; symmetric, groups of 32), the\n"
      "               fp32 GEMM (packed B), and the peers found at build time (oneDNN\n"
      "               u8 x s8 matmul, OpenBLAS fp32 sgemm); on M = 1 shapes\n"
      "               weight_read, the N x K weight bytes read and nothing else (the\n"
      "               int8 GEMV's memory ceiling, measured in the same run):\n"
      "                 gemm/<kernel or peer>/M:<M>/N:<N>/K:<K>/threads:<T>/real_time\n"
      "  fused        the u8 x s8 GEMM with the model run's fused requantizing epilogue\n"
      "               on model shapes (1,256,784) (64,256,784) (128,1024,1024):\n"
      "                 gemm-fused/<kernel>/rule:fp32|gemmlowp/M:/N:/K:/threads:<T>\n"
      "  elementwise  quantize f32->qu8, dequantize qu8->f32, requantize qs32->qu8 at\n"
      "               16384 elements and at a DRAM size (>= 2^24, > 2 x LLC in bytes):\n"
      "                 quantize/<kernel>/n:<n>/threads:<T>, dequantize/...,\n"
      "                 requantize/<kernel>/rule:fp32|gemmlowp/n:<n>/threads:<T>\n"
      "  conv         see --conv\n"
      "Counters: OPS (GEMMs 2*M*N*K per call; elementwise one op per element), as a\n"
      "rate; bytes_per_second and bytes_per_call (bytes read + written: weights as\n"
      "stored + A + C; 5 per element for the elementwise kernels); pct_of_peak for the\n"
      "GEMMs (vs this machine's measured compute ceiling of the backend: int8 for ours\n"
      "and oneDNN, fp32 FMA for our fp32 kernels and sgemm); pct_of_dram_bw (vs the\n"
      "measured DRAM read bandwidth) at M = 1 and for elementwise kernels at the DRAM\n"
      "size. Memory-bound shapes rotate weight copies larger than the last-level cache\n"
      "(weight_copies). The ceilings come from the roofline probe, cached per machine\n"
      "in ~/.cache/qbench (about 10 s the first time).\n\n"
      "options:\n"
      "  --isa LIST          backends to run (comma-separated; default all usable;\n"
      "                      overrides QB_ISA_MASK). scalar is slow on large shapes.\n"
      "  --threads LIST      thread counts (default 1 and the number of cores)\n"
      "  --shapes SET        standard | models | M,N,K;M,N,K;... (default standard;\n"
      "                      repeat to combine)\n"
      "  --filter REGEX      run only benchmarks whose name matches (Google Benchmark's\n"
      "                      --benchmark_filter)\n"
      "  --min-time S        minimum seconds per benchmark (default 0.5, quick 0.01)\n"
      "  --repetitions N     repetitions per benchmark (mean/median/stddev rows)\n"
      "  --json FILE         also write Google Benchmark JSON to FILE; its context\n"
      "                      holds CPU identity, ISA mask, compiler, flags, git revision\n"
      "  --kernels LIST      groups to run: gemm, fused, elementwise, conv, all\n"
      "                      (default gemm,fused,elementwise)\n"
      "  --conv              convolution kernels instead of the default groups (add\n"
      "                      --shapes to run the GEMMs too, or --kernels to add conv): the fused depthwise conv (u8 -> u8, fp32\n"
      "                      or gemmlowp requantization) and the int32-output depthwise conv on\n"
      "                      dwnet's depthwise layers, uint8 im2col on the models' im2col\n"
      "                      convs; names dwconv/<kernel>/C:/H:/W:/k:/s:/threads:<T>,\n"
      "                      im2col/...; OPS = 2 * taps * outputs, pct_of_peak vs the int8\n"
      "                      ceiling (harness/bench/qb_bench_conv.h)\n"
      "  --no-peers          ours only\n"
      "  --list              print the benchmark names and exit\n"
      "  --quick             smoke run: min-time 0.01 s, 1 repetition, an uncached\n"
      "                      quick roofline (its percentages are rough)\n"
      "  -h, --help          this help\n\n"
      "Numbers on a shared or loaded machine drift: compare ratios from one run. There,\n"
      "oneDNN's OpenMP threads spin-wait by default and can lose whole time slices at\n"
      "threads > 1; OMP_WAIT_POLICY=passive avoids that (state it with the figures).\n");
}

typedef struct {
  const char* isa;
  const char* filter;
  const char* json;
  char threads_text[256];
  int threads[MAX_THREAD_COUNTS];
  size_t nthreads;
  qb_bench_shape shapes[QB_BENCH_MAX_SHAPES];
  size_t nshapes;
  double min_time;
  long repetitions;
  unsigned kernels; /* K_* bits; 0 until --kernels or --conv */
  bool quick, no_peers, list, conv;
} bench_opts;

static int parse_kernels(const char* text, bench_opts* o) {
  static const struct {
    const char* name;
    unsigned bits;
  } groups[] = {{"gemm", K_GEMM}, {"fused", K_FUSED}, {"elementwise", K_ELEMENTWISE},
                {"conv", K_CONV}, {"all", K_ALL}};
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  char* items[8];
  const size_t n = qb_cli_split_list(buf, items, 8);
  if (n == 0 || n > 5)
    return qb_cli_usage_error("bench", "--kernels '%s': expected a list of groups", text);
  for (size_t i = 0; i < n; i++) {
    size_t g = 0;
    while (g < sizeof groups / sizeof groups[0] && strcmp(groups[g].name, items[i])) g++;
    if (g == sizeof groups / sizeof groups[0])
      return qb_cli_usage_error(
          "bench", "--kernels: unknown group '%s' (gemm, fused, elementwise, conv, all)", items[i]);
    o->kernels |= groups[g].bits;
  }
  return 0;
}

/* Which groups run: --kernels if given (--conv adds conv); else --conv alone is the
 * conv group (with the GEMM shapes when --shapes is given); else everything but conv. */
static unsigned kernel_groups(const bench_opts* o) {
  if (o->kernels) return o->kernels | (o->conv ? K_CONV : 0u);
  if (o->conv) return K_CONV | (o->nshapes ? K_GEMM : 0u);
  return K_GEMM | K_FUSED | K_ELEMENTWISE;
}

static int parse_threads(const char* text, bench_opts* o) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  char* items[MAX_THREAD_COUNTS + 1];
  const size_t n = qb_cli_split_list(buf, items, MAX_THREAD_COUNTS + 1);
  if (n == 0 || n > MAX_THREAD_COUNTS)
    return qb_cli_usage_error("bench", "--threads '%s': expected 1 to %d counts", text,
                              MAX_THREAD_COUNTS);
  for (size_t i = 0; i < n; i++) {
    long v;
    if (!qb_cli_parse_long(items[i], 1, QB_THREAD_POOL_MAX, &v))
      return qb_cli_usage_error("bench", "--threads: '%s' is not a thread count in 1..%d",
                                items[i], QB_THREAD_POOL_MAX);
    o->threads[o->nthreads++] = (int)v;
  }
  return 0;
}

static int parse_opts(int argc, char** argv, bench_opts* o) {
  static const struct option longopts[] = {
      {"isa", required_argument, 0, 'i'},      {"threads", required_argument, 0, 't'},
      {"shapes", required_argument, 0, 's'},   {"filter", required_argument, 0, 'f'},
      {"min-time", required_argument, 0, 'm'}, {"repetitions", required_argument, 0, 'r'},
      {"json", required_argument, 0, 'j'},     {"quick", no_argument, 0, 'q'},
      {"no-peers", no_argument, 0, 'P'},       {"list", no_argument, 0, 'l'},
      {"conv", no_argument, 0, 'c'},           {"help", no_argument, 0, 'h'},
      {"kernels", required_argument, 0, 'k'},
      {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  opterr = 0;
  optind = 1;
  int c;
  qb_error err;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 'i': o->isa = optarg; break;
      case 't':
        if (parse_threads(optarg, o)) return QB_EXIT_USAGE;
        break;
      case 's':
        if (qb_bench_shapes_parse(optarg, o->shapes, &o->nshapes, &err))
          return qb_cli_usage_error("bench", "%s", err.msg);
        break;
      case 'f': o->filter = optarg; break;
      case 'm': {
        char* end;
        o->min_time = strtod(optarg, &end);
        if (*end || !(o->min_time > 0 && o->min_time <= 3600))
          return qb_cli_usage_error("bench", "--min-time: '%s' is not seconds in (0, 3600]",
                                    optarg);
        break;
      }
      case 'r':
        if (!qb_cli_parse_long(optarg, 1, 1000, &o->repetitions))
          return qb_cli_usage_error("bench", "--repetitions: '%s' is not a count in 1..1000",
                                    optarg);
        break;
      case 'j': o->json = optarg; break;
      case 'q': o->quick = true; break;
      case 'P': o->no_peers = true; break;
      case 'l': o->list = true; break;
      case 'c': o->conv = true; break;
      case 'k':
        if (parse_kernels(optarg, o)) return QB_EXIT_USAGE;
        break;
      case 'h': qb_cmd_bench_help(); return -1;
      case ':': return qb_cli_usage_error("bench", "%s needs a value", argv[optind - 1]);
      default:
        return qb_cli_usage_error("bench", "unknown option '%s' (see --help)", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return qb_cli_usage_error("bench", "unexpected argument '%s' (see --help)", argv[optind]);
  return 0;
}

/* Context of the JSON report: who, where, with what. */
static void add_context(const qb_machine* m, const qb_roofline* r, const char* peers) {
  char buf[1024];
  qb_gbench_add_context("qbench_version", "0.1.0");
  qb_gbench_add_context("machine_fingerprint", m->fingerprint);
  qb_gbench_add_context("cpu_vendor", m->cpuid_ok ? m->vendor : "unknown");
  qb_gbench_add_context("cpu_brand", m->cpuid_ok ? m->brand : "unknown");
  snprintf(buf, sizeof buf, "family %d model %d stepping %d", m->ext_family, m->ext_model,
           m->stepping);
  qb_gbench_add_context("cpu_family_model_stepping", m->cpuid_ok ? buf : "unknown");
  snprintf(buf, sizeof buf, "%d packages, %d cores, %d PUs", m->packages, m->hw_cores, m->pus);
  qb_gbench_add_context("cpu_topology", buf);
  char dis[1024];
  qb_gbench_add_context("isa_disagreements",
                        qb_machine_isa_disagreements(m, dis, sizeof dis) > 0 ? dis : "none");
  qb_catalog_backend_list(qb_isa_mask(), buf, sizeof buf);
  qb_gbench_add_context("isa_mask", buf);
  qb_catalog_backend_list(qb_isa_usable_set(), buf, sizeof buf);
  qb_gbench_add_context("isa_usable", buf);
  /* The same build facts a sweep's run.json records (git revision read now). */
  qb_run_info build;
  qb_error err;
  qb_run_info_collect(&build, "bench", false, &err);
  qb_gbench_add_context("compiler", build.compiler);
  qb_gbench_add_context("build_type", build.build_type);
  snprintf(buf, sizeof buf, "%s (kernel ISA flags per file suffix)", build.c_flags);
  qb_gbench_add_context("c_flags", buf);
  qb_gbench_add_context("git_revision", build.git_revision);
  qb_gbench_add_context("peers", peers);
  if (r) {
    snprintf(buf, sizeof buf, "%s (probe v%d, %d threads, measured %s%s)",
             r->from_cache ? r->cache_path : "measured now", r->probe_version, r->threads,
             r->measured_at, r->contended ? ", contended" : "");
    qb_gbench_add_context("roofline", buf);
    for (int i = 0; i < r->n_entries; i++) {
      const qb_roofline_entry* e = &r->entries[i];
      if (!e->measured) continue;
      char key[64];
      snprintf(key, sizeof key, "roofline_%s", e->name);
      snprintf(buf, sizeof buf, "%.4g %s (1 thread), %.4g (%d threads)", e->t1, e->unit, e->tn,
               r->threads);
      qb_gbench_add_context(key, buf);
    }
  }
}

static int get_roofline(const qb_machine* m, bool quick, qb_roofline* r) {
  qb_roofline_options ro = qb_roofline_default_options();
  if (quick) {
    ro.repetitions = 1;
    ro.rep_seconds = 0.002;
    ro.dram_bytes = 64ll * 1024 * 1024;
    ro.cache_path = "";
  }
  ro.progress = !quick;
  qb_error err;
  if (qb_roofline_get(m, &ro, r, &err) != 0) {
    fprintf(stderr, "qbench bench: warning: no roofline (%s); pct_of_peak is left out\n",
            err.msg);
    return -1;
  }
  return 0;
}

/* Registers impls x shapes x threads; returns how many. */
static size_t register_all(const bench_opts* o, const qb_bench_setup* setup,
                           const qb_bench_impl* impls, size_t nimpls,
                           const qb_bench_shape* shapes, size_t nshapes) {
  size_t n = 0;
  for (size_t i = 0; i < nimpls; i++)
    for (size_t s = 0; s < nshapes; s++) {
      if (impls[i].gemv_only && shapes[s].M != 1) continue;
      for (size_t t = 0; t < o->nthreads; t++)
        if (qb_bench_register_gemm(setup, &impls[i], &shapes[s], o->threads[t]) == 0) n++;
    }
  return n;
}

/* The usable ones of `n` impls at `from`, appended to out[*count]. */
static void keep_usable(const qb_bench_impl* from, size_t n, qb_bench_impl* out, size_t* count) {
  for (size_t i = 0; i < n && *count < MAX_IMPLS; i++)
    if (qb_isa_usable((qb_backend)from[i].kernel_backend)) out[(*count)++] = from[i];
}

/* Registers the fused-epilogue GEMMs of usable backends on their model shapes. */
static size_t register_fused(const bench_opts* o, const qb_bench_setup* setup) {
  qb_bench_impl all[MAX_IMPLS], usable[MAX_IMPLS];
  size_t nusable = 0;
  keep_usable(all, qb_bench_fused(all, MAX_IMPLS), usable, &nusable);
  const qb_bench_shape* shapes;
  const size_t nshapes = qb_bench_fused_shapes(&shapes);
  return register_all(o, setup, usable, nusable, shapes, nshapes);
}

static void release_all(void) {
  qb_bench_gemm_release();
  qb_bench_conv_release();
  qb_bench_q8elem_release();
}

static int check_json_written(const char* path, qb_error* err) {
  size_t len = 0;
  char* text = qb_read_text_file(path, &len);
  qb_run_data probe;
  memset(&probe, 0, sizeof probe);
  const int rc = !text ? qb_fail(err, "%s: write failed (cannot read it back)", path)
                       : qb_run_data_parse_gbench(path, text, len, &probe, err);
  qb_run_data_free(&probe);
  free(text);
  if (rc) qb_remove_regular(path);
  return rc;
}

int qb_cmd_bench(int argc, char** argv) {
  bench_opts o;
  const int rc = parse_opts(argc, argv, &o);
  if (rc < 0) return QB_EXIT_OK; /* --help */
  if (rc) return rc;
  qb_error err;
  if (o.isa && qb_catalog_set_isa(o.isa, &err) != 0) return qb_cli_usage_error("bench", "%s", err.msg);
  if (o.json) {
    FILE* f = fopen(o.json, "w");
    if (!f) return qb_cli_usage_error("bench", "--json: cannot write '%s'", o.json);
    fclose(f);
  }
  const unsigned groups = kernel_groups(&o);
  if (!(groups & K_GEMM)) o.nshapes = 0;
  else if (o.nshapes == 0) qb_bench_shapes_parse("standard", o.shapes, &o.nshapes, &err);
  qb_machine m;
  if (qb_catalog_machine_describe(&m, &err) != 0) {
    fprintf(stderr, "qbench bench: error: %s\n", err.msg);
    return QB_EXIT_FAILURE;
  }
  const int cores = qb_machine_core_count(&m);
  if (o.nthreads == 0) {
    o.threads[o.nthreads++] = 1;
    if (cores > 1) o.threads[o.nthreads++] = cores;
  }

  /* Ours (usable backends only), then the peers: each group runs after the other,
   * so one library's idle spinning threads never overlap another's timing. */
  qb_bench_impl impls[MAX_IMPLS], all[MAX_IMPLS];
  size_t nimpls = 0;
  size_t nall = qb_bench_ours(all, MAX_IMPLS);
  nall += qb_bench_q8gemm(all + nall, MAX_IMPLS - nall);
  nall += qb_bench_wgemm(all + nall, MAX_IMPLS - nall);
  nall += qb_bench_f32(all + nall, MAX_IMPLS - nall);
  keep_usable(all, nall, impls, &nimpls);
  char peers[256] = "";
  if (!o.no_peers && (groups & K_GEMM)) {
    const size_t np = qb_bench_peers(impls + nimpls, MAX_IMPLS - nimpls);
    for (size_t i = 0; i < np; i++)
      snprintf(peers + strlen(peers), sizeof peers - strlen(peers), "%s%s", i ? "," : "",
               impls[nimpls + i].name);
    nimpls += np;
  }
  if (!peers[0]) snprintf(peers, sizeof peers, "none");

  qb_roofline roof;
  const bool have_roof = !o.list && get_roofline(&m, o.quick, &roof) == 0;
  const qb_bench_setup setup = {.roofline = have_roof ? &roof : NULL,
                                .llc_bytes = qb_machine_llc_bytes(&m),
                                .cores = cores};
  size_t nreg = register_all(&o, &setup, impls, nimpls, o.shapes, o.nshapes);
  if (groups & K_FUSED) nreg += register_fused(&o, &setup);
  if (groups & K_ELEMENTWISE) nreg += qb_bench_register_q8elem(&setup, o.threads, o.nthreads);
  if (groups & K_CONV) nreg += qb_bench_register_conv(&setup, o.threads, o.nthreads);
  if (nreg == 0) {
    release_all();
    fprintf(stderr, "qbench bench: error: no benchmark could be registered\n");
    return QB_EXIT_FAILURE;
  }
  add_context(&m, have_roof ? &roof : NULL, peers);

  /* Google Benchmark's own flags carry the filter and the JSON output. */
  static char a_prog[] = "qbench-bench";
  char a_filter[1024], a_out[1100], a_fmt[] = "--benchmark_out_format=json",
                                   a_list[] = "--benchmark_list_tests=true";
  char a_min[64], a_rep[64];
  char* gargv[10] = {a_prog};
  int gargc = 1;
  /* As flags, not per-benchmark options: those would be appended to every name. */
  snprintf(a_min, sizeof a_min, "--benchmark_min_time=%g",
           o.min_time ? o.min_time : o.quick ? 0.01 : 0.5);
  gargv[gargc++] = a_min;
  if (o.repetitions || o.quick) {
    snprintf(a_rep, sizeof a_rep, "--benchmark_repetitions=%ld", o.repetitions ? o.repetitions : 1);
    gargv[gargc++] = a_rep;
  }
  if (o.filter) {
    snprintf(a_filter, sizeof a_filter, "--benchmark_filter=%s", o.filter);
    gargv[gargc++] = a_filter;
  }
  if (o.json) {
    snprintf(a_out, sizeof a_out, "--benchmark_out=%s", o.json);
    gargv[gargc++] = a_out;
    gargv[gargc++] = a_fmt;
  }
  if (o.list) gargv[gargc++] = a_list;
  gargv[gargc] = NULL;
  qb_gbench_initialize(&gargc, gargv);
  const int ran = qb_gbench_run_specified();
  release_all();
  if (ran == 0) {
    fprintf(stderr, "qbench bench: error: no benchmark matches --filter '%s'\n",
            o.filter ? o.filter : "");
    return QB_EXIT_FAILURE;
  }
  /* Google Benchmark does not report a failed write (a full disk): read the file
   * back; an empty or cut file is removed and the run fails. */
  if (o.json && !o.list && check_json_written(o.json, &err)) {
    fprintf(stderr, "qbench bench: error: %s\n", err.msg);
    return QB_EXIT_FAILURE;
  }
  return QB_EXIT_OK;
}
