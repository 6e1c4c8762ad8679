/* A thin C interface to Google Benchmark (1.7.1, libbenchmark-dev), so that every
 * benchmark of qbench is written in C and reports in Google Benchmark's own console
 * and JSON formats. Shaped after IREE's iree/testing/benchmark.h: an opaque state, a
 * keep-running loop, pause/resume, counters, registration with options, and a run
 * function that takes the usual --benchmark_* flags.
 *
 * A benchmark function looks like:
 *
 *   static void bm_gemm(qb_gbench_state* st, void* user) {
 *     const shape* s = user;
 *     while (qb_gbench_keep_running(st)) gemm(s);
 *     qb_gbench_set_rate_counter(st, "OPS", 2.0 * s->m * s->n * s->k *
 *                                            (double)qb_gbench_iterations(st));
 *   }
 *   qb_gbench_register("gemm/avx2/64x64x64", bm_gemm, &shape, &opts);
 *
 * Timing. Google Benchmark measures the wall ("real") time and the CPU time of the
 * thread that runs the benchmark function, and by default divides rate counters
 * (items/s, bytes/s, rate counters) by that *CPU time*. Our multi-threaded kernels
 * run their own worker threads while the calling thread waits, so its CPU time
 * undercounts and every rate would be inflated. Each benchmark therefore states its
 * clock: qb_gbench_options.use_real_time = true makes Google Benchmark report and
 * divide by wall time. qb_gbench_register refuses threads > 1 without it.
 *
 * Threads. qb_gbench_options.threads is *not* Google Benchmark's ->Threads(n) (which
 * would run the function n times concurrently). It is the number of threads our
 * kernel uses internally; the shim only records it, as the counter "kernel_threads"
 * (Google Benchmark's own JSON field "threads" stays 1).
 *
 * Flags vs options. In Google Benchmark a per-benchmark MinTime/Repetitions wins
 * over --benchmark_min_time/--benchmark_repetitions. Leave min_time_s and
 * repetitions at 0 to let the command line decide. --benchmark_min_time takes plain
 * seconds in 1.7 (no "s"/"x" suffix).
 *
 * Not thread-safe: register and run from one thread. */
#ifndef QB_GBENCH_H
#define QB_GBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Google Benchmark's benchmark::State, opaque. Valid only during the call. */
typedef struct qb_gbench_state qb_gbench_state;

typedef void (*qb_gbench_fn)(qb_gbench_state* state, void* user_data);

typedef enum {
  QB_GBENCH_UNIT_DEFAULT = 0, /* Google Benchmark's default (ns) */
  QB_GBENCH_UNIT_NS,
  QB_GBENCH_UNIT_US,
  QB_GBENCH_UNIT_MS,
  QB_GBENCH_UNIT_S
} qb_gbench_time_unit;

typedef struct {
  double min_time_s;   /* minimum measuring time per repetition, seconds; 0 = flag/default */
  int repetitions;     /* 0 = --benchmark_repetitions (default 1) */
  int64_t iterations;  /* fixed iteration count; 0 = Google Benchmark decides */
  bool use_real_time;  /* report and divide rates by wall time (required if threads > 1) */
  int threads;         /* threads the kernel uses itself; counter "kernel_threads" */
  qb_gbench_time_unit unit;
} qb_gbench_options;

/* Zero-initialized options: every field "default"; threads 1. */
qb_gbench_options qb_gbench_default_options(void);

/* --- inside a benchmark function ------------------------------------------------ */

/* `while (qb_gbench_keep_running(st)) body;` — one iteration per call (the C form of
 * `for (auto _ : state)`). */
bool qb_gbench_keep_running(qb_gbench_state* state);
/* Same with `batch` iterations per call (KeepRunningBatch); may overshoot by up to
 * batch - 1, so use qb_gbench_iterations() for totals. */
bool qb_gbench_keep_running_batch(qb_gbench_state* state, int64_t batch);
/* Iterations run so far (after the loop: the total of this run). */
int64_t qb_gbench_iterations(const qb_gbench_state* state);

/* Exclude setup inside the loop from timing. Relatively expensive: keep out of
 * nanosecond-scale loops. */
void qb_gbench_pause_timing(qb_gbench_state* state);
void qb_gbench_resume_timing(qb_gbench_state* state);

/* Ends the benchmark with an error shown in the report; keep_running then returns
 * false. Call before or instead of the loop. */
void qb_gbench_skip_with_error(qb_gbench_state* state, const char* message);

/* Counters appear as extra fields of the benchmark's JSON object (and console
 * columns). A plain counter is reported as given. */
void qb_gbench_set_counter(qb_gbench_state* state, const char* name, double value);
/* A rate: `total` (summed over all iterations of this run) divided by the run's
 * time — wall time if the benchmark uses real time, else the thread's CPU time. */
void qb_gbench_set_rate_counter(qb_gbench_state* state, const char* name, double total);
/* A rate given per iteration: multiplied by the iteration count, then divided by
 * the time (Counter::kIsIterationInvariantRate). E.g. ops per call of a kernel. */
void qb_gbench_set_rate_counter_per_iteration(qb_gbench_state* state, const char* name,
                                              double per_iteration);
/* bytes_per_second / items_per_second: totals over all iterations, as rates. */
void qb_gbench_set_bytes_processed(qb_gbench_state* state, int64_t bytes);
void qb_gbench_set_items_processed(qb_gbench_state* state, int64_t items);
/* Free text shown next to the result ("label" in JSON). */
void qb_gbench_set_label(qb_gbench_state* state, const char* label);

/* --- registration and running ---------------------------------------------------- */

/* Registers `fn` under `name` (copied). `user_data` must outlive qb_gbench_run.
 * `options` may be NULL (defaults). Returns 0, or -1 (with a message on stderr) for
 * invalid options: threads > 1 without use_real_time, negative values. */
int qb_gbench_register(const char* name, qb_gbench_fn fn, void* user_data,
                       const qb_gbench_options* options);

/* Adds key: value to the "context" object of the JSON report (machine, ISA mask,
 * compiler, flags, git revision, ...). A repeated key keeps its first value (Google
 * Benchmark warns on stderr). Avoid its own keys: date, host_name, executable,
 * num_cpus, mhz_per_cpu, cpu_scaling_enabled, caches, load_avg, library_build_type.
 * Call before qb_gbench_run / qb_gbench_run_specified. */
void qb_gbench_add_context(const char* key, const char* value);

/* Parses and removes the --benchmark_* flags from argv (benchmark::Initialize).
 * Other arguments are left for the caller. */
void qb_gbench_initialize(int* argc, char** argv);
/* Runs the registered benchmarks selected by --benchmark_filter; returns how many
 * ran. Requires qb_gbench_initialize. */
int qb_gbench_run_specified(void);

/* The whole thing for a benchmark-only program: initialize, reject arguments left
 * over (returns 2 with a message), run, shut down. Returns 0 if at least one
 * benchmark ran, 1 if the filter selected none. */
int qb_gbench_run(int* argc, char** argv);

/* --- driven from a program that is not a benchmark (qbench sweep) ------------------ */

/* One repetition of one benchmark as Google Benchmark measured it (not the
 * aggregates). real_ns_per_iteration is wall time per iteration. */
typedef struct {
  const char* name;     /* the registered name; valid during the callback only */
  int repetition;       /* 0-based */
  int64_t iterations;
  double real_ns_per_iteration;
  bool error;           /* the benchmark called qb_gbench_skip_with_error */
} qb_gbench_repetition;

typedef void (*qb_gbench_repetition_fn)(const qb_gbench_repetition* rep, void* user_data);

/* Runs every registered benchmark without reading flags and without console output,
 * calls `on_repetition` (may be NULL) for each repetition in order, then forgets the
 * registrations (benchmark::ClearRegisteredBenchmarks) so the next call runs only
 * what was registered after it. With `json_path`, the run's Google Benchmark JSON
 * entries are appended to the document at that path, rewritten whole (temporary
 * file + rename) at most every 2 s, so the file is always valid JSON and lags by at
 * most 2 s of entries until qb_gbench_flush_json; the first call for a path takes
 * over the entries already in the file (a resumed run keeps them). Returns how many
 * repetitions ran, or -1 (message on stderr) if the JSON cannot be written. */
int qb_gbench_run_collect(const char* json_path, qb_gbench_repetition_fn on_repetition,
                          void* user_data);
/* Writes the entries qb_gbench_run_collect has not written yet and forgets the
 * document (the next collect on that path reads the file again); 0 or -1. */
int qb_gbench_flush_json(void);
/* Writes to out_path one document: the first readable input's context and every
 * input's benchmark entries, in order (qbench merge of sharded runs). Missing inputs
 * are skipped; with none readable nothing is written. 0, or -1 (message on stderr)
 * when an input is not a Google Benchmark document or the output cannot be written. */
int qb_gbench_merge_json(const char* out_path, const char* const* paths, size_t n);

#ifdef __cplusplus
}
#endif

#endif
