/* Smoke test of the Google Benchmark shim: one trivial benchmark with a plain, a
 * rate and a per-iteration rate counter, a label and a context entry. CTest runs it
 * with --benchmark_format=json and check_gbench_selftest.cmake parses the output. */
#include <stdint.h>
#include <stdio.h>

#include "qb_gbench.h"

enum { N = 256 };

static void bm_sum(qb_gbench_state* st, void* user) {
  const int32_t* x = user;
  volatile int32_t sink = 0;
  while (qb_gbench_keep_running(st)) {
    int32_t s = 0;
    for (int i = 0; i < N; i++) s += x[i];
    sink = s;
  }
  (void)sink;
  int64_t it = qb_gbench_iterations(st);
  qb_gbench_set_counter(st, "qb_selftest_plain", 42.0);
  qb_gbench_set_rate_counter(st, "qb_selftest_rate", (double)(N * it));
  qb_gbench_set_rate_counter_per_iteration(st, "qb_selftest_ops", (double)N);
  qb_gbench_set_bytes_processed(st, it * N * (int64_t)sizeof(int32_t));
  qb_gbench_set_label(st, "selftest");
}

static void bm_skip(qb_gbench_state* st, void* user) {
  qb_gbench_skip_with_error(st, "skipped on purpose");
  while (qb_gbench_keep_running(st)) {
  }
}

int main(int argc, char** argv) {
  static int32_t x[N];
  for (int i = 0; i < N; i++) x[i] = i;
  qb_gbench_options o = qb_gbench_default_options();
  o.use_real_time = true;
  o.threads = 2;
  if (qb_gbench_register("selftest/sum", bm_sum, x, &o) != 0) return 3;
  if (qb_gbench_register("selftest/skip", bm_skip, NULL, NULL) != 0) return 3;
  /* Must be refused: threads > 1 on CPU time. */
  qb_gbench_options bad = qb_gbench_default_options();
  bad.threads = 4;
  if (qb_gbench_register("selftest/bad", bm_sum, x, &bad) == 0) return 4;
  qb_gbench_add_context("qb_selftest_context", "present");
  return qb_gbench_run(&argc, argv);
}
