/* qbench qat MODEL.onnx: quantization-aware fine-tuning of an fp32 model written by
 * qbench train. Measures fp32 accuracy, static PTQ accuracy (the same fake-quant
 * grid, observers calibrated on the calibration split, no training) and QAT accuracy
 * after fine-tuning with the straight-through estimator; exports QDQ ONNX. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_cli.h"
#include "qb_qat.h"
#include "qb_trainer.h"

#define QAT_MAX_BATCH 256

void qb_cmd_qat_help(void) {
  printf(
      "usage: qbench qat MODEL.onnx [options]\n\n"
      "Fine-tune an fp32 model written by `qbench train` (mlp or cnn) with fake-quantized\n"
      "weights and activations, using the straight-through estimator. Weights are\n"
      "fake-quantized on the qconfig's own grid (scheme, granularity, recomputed every\n"
      "step); inputs and outputs of every Gemm / Conv per tensor with its activation\n"
      "scheme, ranges calibrated with its range strategy (minmax or movavg) on --calib\n"
      "images in batches of 100 and then frozen. Prints fp32, PTQ (calibrated, not\n"
      "fine-tuned) and QAT top-1 on the 10,000 test images, and writes a QDQ ONNX model\n"
      "(QuantizeLinear / DequantizeLinear; weights as int8 codes with per-axis scales,\n"
      "per-group grids as their fake-quantized float values) and F.json.\n\n"
      "options:\n"
      "  --qconfig Q    the grid to fine-tune for, static workflow (default\n"
      "                 w4-sym-channel-restricted/a8-aff-tensor; see qbench eval --help)\n"
      "  --epochs N     fine-tuning epochs (default 2)\n"
      "  --lr X         peak learning rate, cosine decay (default 0.005, SGD momentum 0.9)\n"
      "  --calib N      calibration images from the calibration split (default 2000)\n"
      "  --seed S       shuffling seed (default 1)\n"
      "  --limit N      fine-tune on the first N training images only\n"
      "  --out F.onnx   output (default MODEL-qat-wXaY.onnx)\n"
      "  --data DIR     Fashion-MNIST IDX folder (default " QB_FASHION_MNIST ")\n"
      "  -h, --help     this help\n");
}

typedef struct {
  const char *model, *out, *data;
  qb_qconfig qc;
  char qc_text[256];
  long epochs, calib, seed, limit;
  float lr;
} qat_opts;

static int parse_qat_opts(int argc, char** argv, qat_opts* o) {
  static const struct option longopts[] = {
      {"qconfig", required_argument, 0, 'q'},
      {"epochs", required_argument, 0, 'e'}, {"lr", required_argument, 0, 'r'},
      {"calib", required_argument, 0, 'c'}, {"seed", required_argument, 0, 's'},
      {"limit", required_argument, 0, 'l'}, {"out", required_argument, 0, 'o'},
      {"data", required_argument, 0, 'd'},  {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  opterr = 0;
  optind = 1;
  int c;
  char* end;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 'q': {
        qb_error e;
        if (qb_qconfig_parse(optarg, &o->qc, &e))
          return qb_cli_usage_error("qat", "--qconfig: %s", e.msg);
        break;
      }
      case 'e':
        if (!qb_cli_parse_long(optarg, 0, 100, &o->epochs))
          return qb_cli_usage_error("qat", "--epochs '%s': expected 0..100", optarg);
        break;
      case 'c':
        if (!qb_cli_parse_long(optarg, 1, 5000, &o->calib))
          return qb_cli_usage_error("qat", "--calib '%s': expected 1..5000", optarg);
        break;
      case 's':
        if (!qb_cli_parse_long(optarg, 0, 1L << 62, &o->seed))
          return qb_cli_usage_error("qat", "--seed '%s': expected a non-negative integer",
                                    optarg);
        break;
      case 'l':
        if (!qb_cli_parse_long(optarg, 1, 1L << 30, &o->limit))
          return qb_cli_usage_error("qat", "--limit '%s': expected a positive integer", optarg);
        break;
      case 'r':
        o->lr = strtof(optarg, &end);
        if (!optarg[0] || *end || !(o->lr > 0.0f && o->lr <= 10.0f))
          return qb_cli_usage_error("qat", "--lr '%s': expected a number in (0, 10]", optarg);
        break;
      case 'o': o->out = optarg; break;
      case 'd': o->data = optarg; break;
      case 'h': qb_cmd_qat_help(); return -1;
      case ':': return qb_cli_usage_error("qat", "option %s needs a value", argv[optind - 1]);
      default:
        return qb_cli_usage_error("qat", "unknown option '%s' (see qbench qat --help)",
                                  argv[optind - 1]);
    }
  }
  if (optind >= argc) return qb_cli_usage_error("qat", "missing MODEL.onnx");
  if (optind + 1 < argc)
    return qb_cli_usage_error("qat", "unexpected argument '%s'", argv[optind + 1]);
  o->model = argv[optind];
  return 0;
}

static int write_qat_json(const char* path, const qat_opts* o, float fp32, float ptq,
                          float qat, double seconds, qb_error* err) {
  FILE* f = fopen(path, "w");
  if (!f) return qb_fail(err, "%s: cannot open for writing", path);
  fprintf(f, "{\n  \"source\": ");
  qb_json_string(f, o->model);
  fprintf(f, ",\n  \"qconfig\": ");
  qb_json_string(f, o->qc_text);
  fprintf(f, ",\n  \"activation_ranges\": \"calibrated, then frozen\",\n");
  fprintf(f, "  \"calibration_images\": %ld,\n  \"epochs\": %ld,\n  \"optimizer\": \"sgd\",\n"
          "  \"momentum\": 0.9,\n  \"lr\": %g,\n  \"schedule\": \"cosine decay to 0\",\n"
          "  \"seed\": %ld,\n", o->calib, o->epochs, (double)o->lr, o->seed);
  fprintf(f, "  \"test_accuracy_fp32\": %.4f,\n  \"test_accuracy_ptq\": %.4f,\n"
          "  \"test_accuracy_qat\": %.4f,\n  \"training_seconds\": %.1f\n}\n",
          (double)fp32, (double)ptq, (double)qat, seconds);
  if (fclose(f) != 0) return qb_fail(err, "%s: write error", path);
  return 0;
}

static int run_qat(const qat_opts* o, const char* out, const char* json, qb_error* err) {
  qb_net* net = qb_net_load_onnx(o->model, QAT_MAX_BATCH, err);
  if (!net) return QB_EXIT_USAGE;
  qb_train_data d;
  if (qb_train_data_load(&d, o->data, (size_t)o->limit, err) != 0) {
    qb_net_free(net);
    return QB_EXIT_USAGE;
  }
  const float fp32 = qb_net_accuracy(net, d.test_x, d.test_y, d.ntest);
  printf("%s (%s): fp32 test accuracy %.2f %%\n", o->model, net->model, 100.0 * (double)fp32);
  const qb_qat_recipe recipe = {o->qc, (int)o->epochs, o->lr, (size_t)o->calib,
                                (uint64_t)o->seed};
  float ptq = 0.0f;
  qb_train_result r;
  int rc = qb_qat_finetune(net, &d, &recipe, &ptq, &r, stdout, err);
  if (rc == 0) {
    const float drop = fp32 - ptq, recovered = r.test_accuracy - ptq;
    printf("PTQ %s (%ld calibration images): %.2f %%\n", o->qc_text, o->calib,
           100.0 * (double)ptq);
    printf("QAT after %ld epochs: %.2f %% (PTQ drop %.2f points, QAT recovers %.0f %% of it)\n",
           o->epochs, 100.0 * (double)r.test_accuracy, 100.0 * (double)drop,
           drop > 0 ? 100.0 * (double)(recovered / drop) : 100.0);
    const char* meta[] = {"qbench.qat", o->qc_text, NULL};
    rc = qb_net_export_onnx(net, out, 1, meta, err);
  }
  if (rc == 0) rc = write_qat_json(json, o, fp32, ptq, r.test_accuracy, r.seconds, err);
  if (rc == 0) printf("wrote %s and %s\n", out, json);
  qb_net_free(net);
  qb_train_data_free(&d);
  return rc == 0 ? QB_EXIT_OK : QB_EXIT_FAILURE;
}

int qb_cmd_qat(int argc, char** argv) {
  qat_opts o = {.data = QB_FASHION_MNIST, .epochs = 2, .calib = 2000, .seed = 1, .lr = 0.005f};
  qb_error err;
  if (qb_qconfig_parse("w4-sym-channel-restricted/a8-aff-tensor", &o.qc, &err)) return QB_EXIT_FAILURE;
  int rc = parse_qat_opts(argc, argv, &o);
  if (rc) return rc < 0 ? QB_EXIT_OK : rc;
  qb_qconfig_str(&o.qc, o.qc_text, sizeof o.qc_text);
  char out[4096], json[4096];
  const size_t n = strlen(o.model);
  const int stem = n > 5 && strcmp(o.model + n - 5, ".onnx") == 0 ? (int)(n - 5) : (int)n;
  if (o.out)
    snprintf(out, sizeof out, "%s", o.out);
  else
    snprintf(out, sizeof out, "%.*s-qat-w%da%d.onnx", stem, o.model, o.qc.weight.scheme.bits,
             o.qc.act.scheme.bits);
  const size_t m = strlen(out);
  snprintf(json, sizeof json, "%.*s.json",
           (int)(m > 5 && strcmp(out + m - 5, ".onnx") == 0 ? m - 5 : m), out);
  rc = run_qat(&o, out, json, &err);
  if (rc != QB_EXIT_OK) fprintf(stderr, "qbench qat: error: %s\n", err.msg);
  return rc;
}
