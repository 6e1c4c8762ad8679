// The C shim over Google Benchmark declared in qb_gbench.h. The only C++ file of
// qbench: it translates, it does not decide. qb_gbench_state* is a
// benchmark::State* in disguise.
#include "qb_gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

namespace {

benchmark::State& S(qb_gbench_state* state) {
  return *reinterpret_cast<benchmark::State*>(state);
}
const benchmark::State& S(const qb_gbench_state* state) {
  return *reinterpret_cast<const benchmark::State*>(state);
}

benchmark::TimeUnit ToUnit(qb_gbench_time_unit unit) {
  switch (unit) {
    case QB_GBENCH_UNIT_US: return benchmark::kMicrosecond;
    case QB_GBENCH_UNIT_MS: return benchmark::kMillisecond;
    case QB_GBENCH_UNIT_S: return benchmark::kSecond;
    case QB_GBENCH_UNIT_NS:
    case QB_GBENCH_UNIT_DEFAULT: break;
  }
  return benchmark::kNanosecond;
}

}  // namespace

extern "C" {

qb_gbench_options qb_gbench_default_options(void) {
  qb_gbench_options o = {};
  o.threads = 1;
  return o;
}

bool qb_gbench_keep_running(qb_gbench_state* state) { return S(state).KeepRunning(); }

bool qb_gbench_keep_running_batch(qb_gbench_state* state, int64_t batch) {
  return S(state).KeepRunningBatch(batch > 0 ? batch : 1);
}

int64_t qb_gbench_iterations(const qb_gbench_state* state) {
  return static_cast<int64_t>(S(state).iterations());
}

void qb_gbench_pause_timing(qb_gbench_state* state) { S(state).PauseTiming(); }
void qb_gbench_resume_timing(qb_gbench_state* state) { S(state).ResumeTiming(); }

void qb_gbench_skip_with_error(qb_gbench_state* state, const char* message) {
  S(state).SkipWithError(message ? message : "skipped");
}

void qb_gbench_set_counter(qb_gbench_state* state, const char* name, double value) {
  S(state).counters[name] = benchmark::Counter(value);
}

void qb_gbench_set_rate_counter(qb_gbench_state* state, const char* name, double total) {
  S(state).counters[name] = benchmark::Counter(total, benchmark::Counter::kIsRate);
}

void qb_gbench_set_rate_counter_per_iteration(qb_gbench_state* state, const char* name,
                                              double per_iteration) {
  S(state).counters[name] =
      benchmark::Counter(per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

void qb_gbench_set_bytes_processed(qb_gbench_state* state, int64_t bytes) {
  S(state).SetBytesProcessed(bytes);
}

void qb_gbench_set_items_processed(qb_gbench_state* state, int64_t items) {
  S(state).SetItemsProcessed(items);
}

void qb_gbench_set_label(qb_gbench_state* state, const char* label) {
  S(state).SetLabel(label ? label : "");
}

int qb_gbench_register(const char* name, qb_gbench_fn fn, void* user_data,
                       const qb_gbench_options* options) {
  const qb_gbench_options o = options ? *options : qb_gbench_default_options();
  if (!name || !fn) {
    std::fprintf(stderr, "qb_gbench_register: name and function are required\n");
    return -1;
  }
  if (o.min_time_s < 0 || o.repetitions < 0 || o.iterations < 0 || o.threads < 0) {
    std::fprintf(stderr, "qb_gbench_register: %s: negative option\n", name);
    return -1;
  }
  if (o.threads > 1 && !o.use_real_time) {
    std::fprintf(stderr,
                 "qb_gbench_register: %s: threads = %d needs use_real_time (the "
                 "calling thread's CPU time does not count the workers)\n",
                 name, o.threads);
    return -1;
  }
  const int threads = o.threads > 0 ? o.threads : 1;
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(
      name, [fn, user_data, threads](benchmark::State& st) {
        fn(reinterpret_cast<qb_gbench_state*>(&st), user_data);
        st.counters["kernel_threads"] = benchmark::Counter(static_cast<double>(threads));
      });
  if (o.min_time_s > 0) b->MinTime(o.min_time_s);
  if (o.repetitions > 0) b->Repetitions(o.repetitions);
  if (o.iterations > 0) b->Iterations(o.iterations);
  if (o.use_real_time) b->UseRealTime();
  if (o.unit != QB_GBENCH_UNIT_DEFAULT) b->Unit(ToUnit(o.unit));
  return 0;
}

void qb_gbench_add_context(const char* key, const char* value) {
  if (!key) return;
  benchmark::AddCustomContext(key, value ? value : "");
}

void qb_gbench_initialize(int* argc, char** argv) { benchmark::Initialize(argc, argv); }

int qb_gbench_run_specified(void) {
  return static_cast<int>(benchmark::RunSpecifiedBenchmarks());
}

int qb_gbench_run(int* argc, char** argv) {
  benchmark::Initialize(argc, argv);
  if (benchmark::ReportUnrecognizedArguments(*argc, argv)) return 2;
  const size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return ran > 0 ? 0 : 1;
}

}  // extern "C"
