/* qbench eval: top-1 accuracy of an ONNX model in fp32 and, with a qconfig,
 * quantized (simulated and on the integer kernels of a backend). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_cli.h"
#include "qb_dataset.h"
#include "qb_metrics.h"
#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_export.h"
#include "qb_model_quant.h"
#include "qb_qconfig.h"

void qb_cmd_eval_help(void) {
  printf(
      "usage: qbench eval MODEL.onnx [options]\n\n"
      "Top-1 accuracy of MODEL in fp32; with --qconfig also quantized, simulated\n"
      "(fake-quant, fp32 math) and on the integer kernels of --backend, with the drop\n"
      "from fp32 and the top-1 agreement with the fp32 model.\n\n"
      "options:\n"
      "  --data D          fashion-mnist (default: the 10,000 test images, preprocessed\n"
      "                    as the model's qbench.preprocess metadata says) or X.npy\n"
      "                    (float32 [N, ...], used as given)\n"
      "  --labels Y.npy    integer labels for X.npy (required with X.npy)\n"
      "  --fmnist-dir DIR  Fashion-MNIST IDX folder (default " QB_FASHION_MNIST ")\n"
      "  --qconfig Q       e.g. w8-sym-channel-minmax/a8-aff-tensor-minmax/static\n"
      "                    (grammar: w<bits>[-tok..]/a<bits>[-tok..]/static|dynamic|weight-only;\n"
      "                    tokens sym aff tensor channel group:G minmax movavg percentile:P\n"
      "                    mse entropy crossentropy signed unsigned restricted div mulrecip;\n"
      "                    activations also fp32 | gemmlowp: the requantization rule)\n"
      "  --backend B       scalar, sse41, avx2, avx2-sat, avx512vnni or best (default best)\n"
      "  --limit N         evaluate the first N samples only\n"
      "  --calib-limit N   calibrate on the first N of the 5,000 calibration images\n"
      "                    (the LAST 5,000 Fashion-MNIST training images; default all)\n"
      "  --batch N         batch size (default 100)\n"
      "  --threads N       threads of the fp32 ops and of the integer run (fp32 GEMM,\n"
      "                    int8 GEMM and int4 kernels; results are identical for any\n"
      "                    count; default 1)\n"
      "  --layers          print the per-layer table (kernel, activation qparams,\n"
      "                    output channels whose int32 bias saturated)\n"
      "  --export F.onnx   write the fp32 graph as loaded (BatchNormalization folded)\n"
      "  --export-qdq F.onnx  write the quantized model in QDQ form (static or\n"
      "                    weight-only; needs --qconfig)\n"
      "  -h, --help        this help\n\n"
      "Calibration data for X.npy input: the first --calib-limit samples of X.npy.\n");
}

typedef struct {
  const char *model, *data, *labels, *fmnist_dir, *qconfig, *backend, *export_fp32, *export_qdq;
  long limit, calib_limit, batch, threads;
  bool layers;
} eval_args;

static void progress_bar(void* ctx, size_t done, size_t total) {
  const char* what = ctx;
  const int width = 30, fill = total ? (int)(width * done / total) : width;
  fprintf(stderr, "\r%-12s [%.*s%*s] %zu/%zu", what, fill, "##############################",
          width - fill, "", done, total);
  if (done == total) fputc('\n', stderr);
}

static int parse_args(int argc, char** argv, eval_args* a) {
  static const struct option opts[] = {
      {"data", required_argument, 0, 'd'},   {"labels", required_argument, 0, 'l'},
      {"fmnist-dir", required_argument, 0, 'f'}, {"qconfig", required_argument, 0, 'q'},
      {"backend", required_argument, 0, 'b'}, {"limit", required_argument, 0, 'n'},
      {"calib-limit", required_argument, 0, 'c'}, {"batch", required_argument, 0, 'B'},
      {"layers", no_argument, 0, 'L'},       {"help", no_argument, 0, 'h'},
      {"export", required_argument, 0, 'e'}, {"export-qdq", required_argument, 0, 'E'},
      {"threads", required_argument, 0, 't'}, {0, 0, 0, 0}};
  memset(a, 0, sizeof *a);
  a->data = "fashion-mnist", a->fmnist_dir = QB_FASHION_MNIST, a->backend = "best", a->batch = 100;
  a->threads = 1;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
      case 'd': a->data = optarg; break;
      case 'l': a->labels = optarg; break;
      case 'f': a->fmnist_dir = optarg; break;
      case 'q': a->qconfig = optarg; break;
      case 'b': a->backend = optarg; break;
      case 'n':
        if (!qb_cli_parse_long(optarg, 1, 100000000, &a->limit))
          return qb_cli_usage_error("eval", "--limit '%s': expected a positive integer", optarg);
        break;
      case 'c':
        if (!qb_cli_parse_long(optarg, 1, 100000000, &a->calib_limit))
          return qb_cli_usage_error("eval", "--calib-limit '%s': expected a positive integer", optarg);
        break;
      case 'B':
        if (!qb_cli_parse_long(optarg, 1, 65536, &a->batch))
          return qb_cli_usage_error("eval", "--batch '%s': expected 1..65536", optarg);
        break;
      case 't':
        if (!qb_cli_parse_long(optarg, 1, 64, &a->threads))
          return qb_cli_usage_error("eval", "--threads '%s': expected 1..64", optarg);
        break;
      case 'L': a->layers = true; break;
      case 'e': a->export_fp32 = optarg; break;
      case 'E': a->export_qdq = optarg; break;
      case 'h': qb_cmd_eval_help(); return -1;
      default: return qb_cli_usage_error("eval", "see qbench eval --help");
    }
  }
  if (optind != argc - 1)
    return qb_cli_usage_error("eval", "expected exactly one MODEL.onnx (see qbench eval --help)");
  a->model = argv[optind];
  if (a->export_qdq && !a->qconfig)
    return qb_cli_usage_error("eval", "--export-qdq needs --qconfig");
  /* Check --qconfig and --backend now, before any long run. */
  qb_qconfig cfg;
  qb_error err;
  if (a->qconfig && qb_qconfig_parse(a->qconfig, &cfg, &err))
    return qb_cli_usage_error("eval", "%s", err.msg);
  if (a->export_qdq && qb_model_export_qdq_check(&cfg, &err))
    return qb_cli_usage_error("eval", "--export-qdq %s: %s", a->export_qdq, err.msg);
  qb_backend backend;
  if (strcmp(a->backend, "best") && qb_backend_from_name(a->backend, strlen(a->backend), &backend))
    return qb_cli_usage_error("eval", "unknown backend '%s' (scalar, sse41, avx2, avx2-sat, "
                              "avx512vnni, best)", a->backend);
  return 0;
}

static int load_data(const eval_args* a, const qb_model* m, qb_dataset* test, qb_dataset* calib,
                     qb_error* err) {
  memset(calib, 0, sizeof *calib);
  if (!strcmp(a->data, "fashion-mnist")) {
    qb_preprocess pp;
    if (qb_preprocess_parse(m->meta_preprocess, &pp, err)) return -1;
    if (qb_dataset_fmnist(a->fmnist_dir, "test", &pp, test, err)) return -1;
    if (a->qconfig && qb_dataset_fmnist(a->fmnist_dir, "calib", &pp, calib, err)) return -1;
    return 0;
  }
  if (!a->labels) return qb_fail(err, "--data %s needs --labels Y.npy", a->data);
  if (qb_dataset_npy(a->data, a->labels, test, err)) return -1;
  if (a->qconfig && qb_dataset_npy(a->data, NULL, calib, err)) return -1;
  return 0;
}

static void print_layers(const qb_model* m, const qb_quant_state* q) {
  printf("\n%-28s %-20s %-44s %12s %12s %9s\n", "layer", "op", "kernel", "in scale", "out scale",
         "bias sat");
  for (size_t k = 0; k < m->nnodes; k++) {
    qb_quant_layer_info li;
    qb_quant_layer(q, k, &li);
    /* A static layer's row is named after the nodes folded into it (conv1+relu1). */
    printf("%-28s %-20s %-44s", li.name ? li.name : m->nodes[k].name, qb_op_name(m->nodes[k].op),
           li.kernel);
    if (li.has_in_qparams) printf(" %12.6g", (double)li.in_scale);
    else printf(" %12s", "-");
    if (li.has_out_qparams) printf(" %12.6g", (double)li.out_scale);
    else printf(" %12s", "-");
    /* Output channels whose int32 bias saturated (static layers with an int32 bias). */
    if (li.has_int32_bias) printf(" %9zu\n", li.bias_saturated);
    else printf(" %9s\n", "-");
  }
}

/* Data that does not fit the model's input is a usage error (exit 2), found before
 * anything runs. */
static int check_data_shape(qb_model* m, const qb_dataset* d, qb_error* err) {
  /* Symbolic dimensions (PaddleOCR's H and W) take the data's sample shape. */
  if (qb_model_fit_input(m, d->ndim, d->dims, err) || qb_model_prepare(m, 1, err)) return -1;
  if (m->ninputs != 1) return qb_fail(err, "the model has %zu inputs; evaluation feeds one", m->ninputs);
  const qb_value* in = &m->values[m->inputs[0]];
  if (in->numel != d->sample_numel)
    return qb_fail(err, "model input '%.200s' takes %zu values per sample; the data has %zu",
                   in->name, in->numel, d->sample_numel);
  return 0;
}

static int run_quantized(const eval_args* a, qb_model* m, const qb_dataset* test,
                         const qb_dataset* calib, const qb_eval_result* fp32, qb_error* err) {
  qb_qconfig cfg;
  if (qb_qconfig_parse(a->qconfig, &cfg, err)) return QB_EXIT_USAGE;
  qb_backend backend = QB_BACKEND_COUNT;
  if (strcmp(a->backend, "best") && qb_backend_from_name(a->backend, strlen(a->backend), &backend)) {
    qb_fail(err, "unknown backend '%s' (scalar, sse41, avx2, avx2-sat, avx512vnni, best)", a->backend);
    return QB_EXIT_USAGE;
  }
  qb_quant_state* q;
  if (qb_quant_create(m, &cfg, backend, &q, err)) return QB_EXIT_FAILURE;
  const bool tty = isatty(2);
  int rc = QB_EXIT_FAILURE;
  if (qb_quant_set_threads(q, (size_t)a->threads, err)) goto done;
  qb_eval_result sim = {0}, integer = {0};
  if (cfg.workflow == QB_WORKFLOW_STATIC &&
      qb_model_calibrate(m, q, calib, (size_t)a->calib_limit, (size_t)a->batch, err))
    goto done;
  const qb_model_exec se = {QB_EXEC_SIMULATED, q, NULL, NULL, false}, ie = {QB_EXEC_INTEGER, q, NULL, NULL, false};
  if (qb_model_evaluate(m, test, (size_t)a->limit, (size_t)a->batch, &se, tty ? progress_bar : NULL,
                        "simulated", &sim, err) ||
      qb_model_evaluate(m, test, (size_t)a->limit, (size_t)a->batch, &ie, tty ? progress_bar : NULL,
                        "integer", &integer, err))
    goto done;
  char qs[400];
  printf("qconfig:           %s\n", qb_qconfig_str(&cfg, qs, sizeof qs));
  printf("backend:           %s\n", qb_quant_backend_name(q));
  size_t wq_bytes = 0, wf_bytes = 0, layers = 0, integer_layers = 0;
  for (size_t k = 0; k < m->nnodes; k++) {
    qb_quant_layer_info li;
    qb_quant_layer(q, k, &li);
    if (!li.quantized) continue;
    layers++, integer_layers += strncmp(li.kernel, "fp32", 4) != 0;
    wq_bytes += li.weight_bytes, wf_bytes += li.weight_numel * sizeof(float);
  }
  printf("quantized layers:  %zu (%zu on integer kernels); weights %zu bytes (fp32 %zu)\n", layers,
         integer_layers, wq_bytes, wf_bytes);
  printf("top-1 simulated:   %.2f%%  (drop %+.2f points)\n", 100 * sim.top1, 100 * (fp32->top1 - sim.top1));
  printf("top-1 integer:     %.2f%%  (drop %+.2f points)\n", 100 * integer.top1,
         100 * (fp32->top1 - integer.top1));
  printf("agreement with fp32 (top-1): simulated %.2f%%, integer %.2f%%; integer vs simulated %.2f%%\n",
         100 * qb_top1_agreement(fp32->logits, sim.logits, fp32->count, fp32->classes),
         100 * qb_top1_agreement(fp32->logits, integer.logits, fp32->count, fp32->classes),
         100 * qb_top1_agreement(sim.logits, integer.logits, fp32->count, fp32->classes));
  if (a->layers) print_layers(m, q);
  if (a->export_qdq) {
    if (qb_model_export_qdq(m, q, a->export_qdq, err)) goto done;
    printf("wrote:             %s (QDQ)\n", a->export_qdq);
  }
  rc = QB_EXIT_OK;
done:
  qb_eval_result_free(&sim), qb_eval_result_free(&integer);
  qb_quant_free(q);
  return rc;
}

int qb_cmd_eval(int argc, char** argv) {
  eval_args a;
  const int prc = parse_args(argc, argv, &a);
  if (prc) return prc < 0 ? QB_EXIT_OK : prc;
  qb_error err = {{0}};
  qb_model m;
  if (qb_model_load_onnx(a.model, &m, &err)) {
    fprintf(stderr, "qbench eval: error: %s\n", err.msg);
    return QB_EXIT_USAGE;
  }
  qb_dataset test = {0}, calib = {0};
  int rc = QB_EXIT_USAGE;
  qb_eval_result fp32 = {0};
  if (load_data(&a, &m, &test, &calib, &err) || check_data_shape(&m, &test, &err)) goto done;
  rc = QB_EXIT_FAILURE;
  if (qb_model_set_threads(&m, (size_t)a.threads, &err)) goto done;
  if (qb_model_evaluate(&m, &test, (size_t)a.limit, (size_t)a.batch, NULL,
                        isatty(2) ? progress_bar : NULL, "fp32", &fp32, &err))
    goto done;
  printf("model:             %s%s%s\n", a.model, m.meta_model[0] ? "  name " : "", m.meta_model);
  printf("data:              %s, %zu samples\n", a.data, fp32.count);
  printf("fp32 path:         %s, %zu thread%s\n", qb_model_f32_gemm_name(), qb_model_threads(&m),
         qb_model_threads(&m) == 1 ? "" : "s");
  printf("activation arena:  %zu bytes at batch %zu (one buffer per tensor: %zu)\n", m.arena_bytes,
         m.batch, m.naive_bytes);
  printf("top-1 fp32:        %.2f%%\n", 100 * fp32.top1);
  if (a.export_fp32) {
    if (qb_model_export_onnx(&m, a.export_fp32, &err)) goto done;
    printf("wrote:             %s (fp32)\n", a.export_fp32);
  }
  rc = a.qconfig ? run_quantized(&a, &m, &test, &calib, &fp32, &err) : QB_EXIT_OK;
done:
  if (rc != QB_EXIT_OK) fprintf(stderr, "qbench eval: error: %s\n", err.msg);
  qb_eval_result_free(&fp32);
  qb_dataset_free(&test), qb_dataset_free(&calib);
  qb_model_free(&m);
  return rc;
}
