/* qbench: benchmark and accuracy evaluation of quantized neural-network inference. */
#include <stdio.h>
#include <string.h>

#include "qb_cli.h"

#ifndef QB_VERSION
#define QB_VERSION "0.1.0"
#endif

static const qb_command commands[] = {
    {"tensor", "quantize a .npy tensor under given schemes and print qparams and errors",
     qb_cmd_tensor, qb_cmd_tensor_help},
    {"train", "train a reference model (mlp, cnn, dwnet, vit) and save it as ONNX",
     qb_cmd_train, qb_cmd_train_help},
    {"qat", "quantization-aware fine-tuning of a trained model; exports QDQ ONNX", qb_cmd_qat,
     qb_cmd_qat_help},
    {"sweep", "run a sweep config: plan, evaluate, record results, resume", qb_cmd_sweep,
     qb_cmd_sweep_help},
    {"merge", "combine the run folders of a sharded sweep (--shard I/N) into one", qb_cmd_merge,
     qb_cmd_merge_help},
    {"info", "describe this machine, its ISA, backends and the kernels chosen", qb_cmd_info,
     qb_cmd_info_help},
    {"bench", "benchmark the int8 GEMM kernels (and oneDNN, OpenBLAS) with Google Benchmark",
     qb_cmd_bench, qb_cmd_bench_help},
    {"eval", "top-1 accuracy of an ONNX model in fp32 and quantized (simulated, integer)",
     qb_cmd_eval, qb_cmd_eval_help},
    {"compare", "regression gate: BASE vs CURRENT run (Mann-Whitney U on speed, accuracy thresholds)",
     qb_cmd_compare, qb_cmd_compare_help},
    {"report", "write RUN/report.md with plots (Pareto, per-layer SQNR, sensitivity, roofline)",
     qb_cmd_report, qb_cmd_report_help},
    {"recommend", "qconfigs within an accuracy budget, ranked; Pareto front; mixed-precision plan",
     qb_cmd_recommend, qb_cmd_recommend_help},
    {"history", "a metric over time from the SQLite results history (table and plot)",
     qb_cmd_history, qb_cmd_history_help},
    {"hardware", "runs from different machines side by side, raw and roofline-normalized",
     qb_cmd_hardware, qb_cmd_hardware_help},
    {"ocr-data", "generate labelled OCR data (text lines, pages) with FreeType, from a seed",
     qb_cmd_ocr_data, qb_cmd_ocr_data_help},
};
static const size_t ncommands = sizeof commands / sizeof *commands;

static void usage(FILE* f) {
  fprintf(f,
          "usage: qbench COMMAND [OPTIONS]\n"
          "       qbench help COMMAND | qbench COMMAND --help\n\n"
          "Benchmark and accuracy evaluation of quantized neural-network inference.\n\n"
          "commands:\n");
  for (size_t i = 0; i < ncommands; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f,
          "\nexit status: 0 success, 1 failure found or run-time error, 2 usage error or "
          "bad input\n");
}

static const qb_command* find(const char* name) {
  for (size_t i = 0; i < ncommands; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return QB_EXIT_USAGE;
  }
  const char* name = argv[1];
  if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
    usage(stdout);
    return QB_EXIT_OK;
  }
  if (!strcmp(name, "--version")) {
    printf("qbench %s\n", QB_VERSION);
    return QB_EXIT_OK;
  }
  if (!strcmp(name, "help")) {
    if (argc < 3) {
      usage(stdout);
      return QB_EXIT_OK;
    }
    const qb_command* c = find(argv[2]);
    if (!c) {
      fprintf(stderr, "qbench: unknown command '%s' (see qbench --help)\n", argv[2]);
      return QB_EXIT_USAGE;
    }
    c->help();
    return QB_EXIT_OK;
  }
  const qb_command* c = find(name);
  if (!c) {
    fprintf(stderr, "qbench: unknown command '%s' (see qbench --help)\n", name);
    return QB_EXIT_USAGE;
  }
  return c->run(argc - 1, argv + 1);
}
