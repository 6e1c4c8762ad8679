// The C shim over Google Benchmark declared in qb_gbench.h. The only C++ file of
// qbench: it translates, it does not decide. qb_gbench_state* is a
// benchmark::State* in disguise.
#include "qb_gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// Passes every repetition to a C callback and the whole run to a JSONReporter that
// writes into a string (the display reporter of a run: nothing on the console).
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  CollectingReporter(qb_gbench_repetition_fn fn, void* user) : fn_(fn), user_(user) {
    json_.SetOutputStream(&out_);
    json_.SetErrorStream(&out_);
  }
  bool ReportContext(const Context& context) override { return json_.ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      const std::string name = r.benchmark_name();
      const double iters = r.iterations > 0 ? static_cast<double>(r.iterations) : 1.0;
      const qb_gbench_repetition rep = {
          name.c_str(), static_cast<int>(r.repetition_index > 0 ? r.repetition_index : 0),
          static_cast<int64_t>(r.iterations), 1e9 * r.real_accumulated_time / iters,
          r.error_occurred};
      repetitions_++;
      if (fn_) fn_(&rep, user_);
    }
    json_.ReportRuns(runs);
  }
  void Finalize() override { json_.Finalize(); }
  std::string Text() const { return out_.str(); }
  int Repetitions() const { return repetitions_; }

 private:
  qb_gbench_repetition_fn fn_;
  void* user_;
  std::ostringstream out_;
  benchmark::JSONReporter json_;
  int repetitions_ = 0;
};

// A Google Benchmark JSON document as its head (`{ "context": {...}, "benchmarks": [`)
// and the text of its entries, so that runs can be appended and the whole rewritten.
struct JsonDocument {
  std::string path, head, entries;
  bool dirty = false;
  std::chrono::steady_clock::time_point written;
};
JsonDocument g_doc;

const char kBenchmarksKey[] = "\"benchmarks\": [";

// Splits a JSONReporter document at its benchmarks array; false if it is not one.
bool SplitDocument(const std::string& text, std::string* head, std::string* entries) {
  const size_t open = text.find(kBenchmarksKey);
  const size_t close = text.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  const size_t from = open + sizeof kBenchmarksKey - 1;
  *head = text.substr(0, from);
  const size_t first = text.find_first_not_of(" \n", from);
  const size_t last = text.find_last_not_of(" \n", close - 1);
  *entries = first < close && last != std::string::npos && last >= first
                 ? text.substr(first, last - first + 1)
                 : std::string();
  return true;
}

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *text = s.str();
  return true;
}

// Writes g_doc to its path atomically (temporary file + rename).
int WriteDocument() {
  const std::string tmp = g_doc.path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << g_doc.head << "\n" << g_doc.entries << "\n  ]\n}\n";
    if (!out.flush()) {
      std::fprintf(stderr, "%s: cannot write\n", tmp.c_str());
      return -1;
    }
  }
  if (std::rename(tmp.c_str(), g_doc.path.c_str()) != 0) {
    std::fprintf(stderr, "%s: cannot rename to %s\n", tmp.c_str(), g_doc.path.c_str());
    return -1;
  }
  g_doc.dirty = false;
  g_doc.written = std::chrono::steady_clock::now();
  return 0;
}

// Appends one run's document to g_doc (adopting the file's entries on first use of
// a path) and rewrites the file atomically.
int AppendJson(const char* path, const std::string& run_text) {
  std::string head, entries;
  if (!SplitDocument(run_text, &head, &entries)) {
    std::fprintf(stderr, "qb_gbench_run_collect: unexpected Google Benchmark JSON\n");
    return -1;
  }
  if (g_doc.path != path) {
    if (g_doc.dirty && WriteDocument()) return -1; /* the previous document's tail */
    g_doc = JsonDocument();
    g_doc.path = path;
    g_doc.head = head;
    std::string old, old_head;
    if (ReadFile(path, &old)) SplitDocument(old, &old_head, &g_doc.entries);
  }
  if (!entries.empty()) g_doc.entries += (g_doc.entries.empty() ? "  " : ",\n  ") + entries;
  g_doc.dirty = true;
  // The whole document is rewritten, so at most every 2 s (a sweep appends per item;
  // rewriting each time costs O(items^2) bytes); qb_gbench_flush_json writes the rest.
  if (std::chrono::steady_clock::now() - g_doc.written < std::chrono::seconds(2)) return 0;
  return WriteDocument();
}

}  // namespace

extern "C" {

int qb_gbench_flush_json(void) {
  const int rc = g_doc.dirty ? WriteDocument() : 0;
  // The file is the truth from now on: a later run on the same path (a resume in
  // this process) adopts its entries as the resume left them.
  g_doc = JsonDocument();
  return rc;
}

int qb_gbench_merge_json(const char* out_path, const char* const* paths, size_t n) {
  if (g_doc.dirty && WriteDocument()) return -1;
  JsonDocument merged;
  merged.path = out_path;
  for (size_t i = 0; i < n; i++) {
    std::string text, head, entries;
    if (!ReadFile(paths[i], &text)) continue;
    if (!SplitDocument(text, &head, &entries)) {
      std::fprintf(stderr, "%s: not a Google Benchmark JSON document\n", paths[i]);
      return -1;
    }
    if (merged.head.empty()) merged.head = head;
    if (!entries.empty()) merged.entries += (merged.entries.empty() ? "  " : ",\n  ") + entries;
  }
  if (merged.head.empty()) return 0;
  g_doc = merged;
  return WriteDocument();
}

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

int qb_gbench_run_collect(const char* json_path, qb_gbench_repetition_fn on_repetition,
                          void* user_data) {
  // Set by benchmark::Initialize, which a program that is not a benchmark never
  // calls; the JSON context prints it.
  if (!benchmark::BenchmarkReporter::Context::executable_name)
    benchmark::BenchmarkReporter::Context::executable_name = "qbench";
  CollectingReporter reporter(on_repetition, user_data);
  benchmark::RunSpecifiedBenchmarks(&reporter, ".");
  benchmark::ClearRegisteredBenchmarks();
  if (json_path && AppendJson(json_path, reporter.Text())) return -1;
  return reporter.Repetitions();
}

int qb_gbench_run(int* argc, char** argv) {
  benchmark::Initialize(argc, argv);
  if (benchmark::ReportUnrecognizedArguments(*argc, argv)) return 2;
  const size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return ran > 0 ? 0 : 1;
}

}  // extern "C"
