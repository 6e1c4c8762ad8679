/* qbench eval: the task metric (top-1 for classifiers; qb_task.h) of an ONNX model in
 * fp32 and, with a qconfig, quantized (simulated and on the integer kernels of a
 * backend). */
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
#include "qb_task.h"

void qb_cmd_eval_help(void) {
  printf(
      "usage: qbench eval MODEL.onnx [options]\n\n"
      "The task metric of MODEL in fp32 (top-1 for classifiers); with --qconfig also\n"
      "quantized, simulated (fake-quant, fp32 math) and on the integer kernels of\n"
      "--backend, with the drop from fp32 and the agreement with the fp32 model.\n"
      "Prints the model file, the data and the preprocessing applied.\n\n"
      "options:\n"
      "  --task T          classification (default), ocr-cls, ocr-rec, ocr-det or outputs\n"
      "                    (no labels: quantized vs fp32 outputs; see README, tasks)\n"
      "  --data D          fashion-mnist (default: the 10,000 test images, preprocessed\n"
      "                    as the model's qbench.preprocess metadata says) or X.npy\n"
      "                    (float32 [N, ...], used as given; qbench ocr-data writes OCR sets)\n"
      "  --labels Y        labels of X.npy: an .npy of class indices (classification,\n"
      "                    ocr-cls), a text file of lines (ocr-rec) or of boxes (ocr-det);\n"
      "                    none with --task outputs\n"
      "  --calibration-data C.npy  calibration inputs for X.npy; without it the last\n"
      "                    min(--calib-limit or 512, N/2) samples of X.npy calibrate and\n"
      "                    are not evaluated\n"
      "  --dictionary F    ocr-rec: the recognizer's character list (CTC classes 1..n)\n"
      "  --fmnist-dir DIR  Fashion-MNIST IDX folder (default " QB_FASHION_MNIST ")\n"
      "  --qconfig Q       e.g. w8-sym-channel-minmax/a8-aff-tensor-minmax/static\n"
      "                    (grammar: w<bits>[-tok..]/a<bits>[-tok..]/static|dynamic|weight-only;\n"
      "                    tokens sym aff tensor channel group:G minmax movavg percentile:P\n"
      "                    mse entropy crossentropy signed unsigned restricted div mulrecip;\n"
      "                    activations also fp32 | gemmlowp: the requantization rule)\n"
      "  --backend B       scalar, sse41, avx2, avx2-sat, avx512vnni or best (default best)\n"
      "  --limit N         evaluate the first N samples only\n"
      "  --calib-limit N   calibrate on the first N calibration samples (Fashion-MNIST:\n"
      "                    of the LAST 5,000 training images; default all)\n"
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
      "Calibration never uses evaluated samples: Fashion-MNIST calibrates on training\n"
      "images, X.npy on --calibration-data or its held-out tail.\n");
}

typedef struct {
  const char *model, *data, *labels, *fmnist_dir, *qconfig, *backend, *export_fp32, *export_qdq;
  const char *calib_data, *dictionary;
  qb_task task;
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
      {"threads", required_argument, 0, 't'}, {"task", required_argument, 0, 'T'},
      {"calibration-data", required_argument, 0, 'C'}, {"dictionary", required_argument, 0, 'D'},
      {0, 0, 0, 0}};
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
      case 'T':
        if (qb_task_parse(optarg, &a->task))
          return qb_cli_usage_error("eval", "--task '%s': expected classification, ocr-cls, "
                                    "ocr-rec, ocr-det or outputs", optarg);
        break;
      case 'C': a->calib_data = optarg; break;
      case 'D': a->dictionary = optarg; break;
      case 'e': a->export_fp32 = optarg; break;
      case 'E': a->export_qdq = optarg; break;
      case 'h': qb_cmd_eval_help(); return -1;
      default: return qb_cli_usage_error("eval", "see qbench eval --help");
    }
  }
  if (optind != argc - 1)
    return qb_cli_usage_error("eval", "expected exactly one MODEL.onnx (see qbench eval --help)");
  a->model = argv[optind];
  const bool fmnist = !strcmp(a->data, "fashion-mnist");
  if (a->task != QB_TASK_CLASSIFICATION && fmnist)
    return qb_cli_usage_error("eval", "--task %s needs --data X.npy", qb_task_name(a->task));
  if (a->task == QB_TASK_OCR_REC && !a->dictionary)
    return qb_cli_usage_error("eval", "--task ocr-rec needs --dictionary");
  if (!fmnist && qb_task_needs_labels(a->task) && !a->labels)
    return qb_cli_usage_error("eval", "--data %s needs --labels", a->data);
  if (!qb_task_needs_labels(a->task) && a->labels)
    return qb_cli_usage_error("eval", "--task outputs takes no --labels (it compares with fp32)");
  if (fmnist && a->calib_data)
    return qb_cli_usage_error("eval", "--calibration-data is for X.npy data");
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
                     qb_task_labels* labels, qb_error* err) {
  memset(calib, 0, sizeof *calib);
  memset(labels, 0, sizeof *labels);
  if (!strcmp(a->data, "fashion-mnist")) {
    qb_preprocess pp;
    if (qb_preprocess_parse(m->meta_preprocess, &pp, err)) return -1;
    if (qb_dataset_fmnist(a->fmnist_dir, "test", &pp, test, err)) return -1;
    if (a->qconfig && qb_dataset_fmnist(a->fmnist_dir, "calib", &pp, calib, err)) return -1;
    return 0;
  }
  const bool class_labels = a->task == QB_TASK_CLASSIFICATION || a->task == QB_TASK_OCR_CLS;
  if (qb_dataset_npy(a->data, class_labels ? a->labels : NULL, test, err)) return -1;
  if (a->qconfig) {
    if (a->calib_data ? qb_dataset_npy(a->calib_data, NULL, calib, err)
                      : qb_dataset_split_tail(test, calib, a->calib_limit ? (size_t)a->calib_limit : 512, err))
      return -1;
  }
  if (!class_labels && a->labels && qb_task_labels_load(a->task, a->labels, test->count + (a->qconfig && !a->calib_data ? calib->count : 0), labels, err))
    return -1;
  return 0;
}

/* The preprocessing applied to the data, in words. */
static void print_preprocessing(const eval_args* a, const qb_model* m) {
  if (!strcmp(a->data, "fashion-mnist")) {
    printf("preprocessing:     %s (model metadata qbench.preprocess%s)\n",
           m->meta_preprocess[0] ? m->meta_preprocess : "scale=1/255;mean=0;std=1",
           m->meta_preprocess[0] ? "" : " absent: defaults");
    return;
  }
  printf("preprocessing:     none (%s is fed as given)\n", a->data);
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

typedef struct {
  const qb_task_ctx* task;
  const qb_dataset* test;
  const qb_task_labels* labels;
} scoring;

/* The task metric of kept values (ref: the fp32 run, for the outputs task). */
static int score(const scoring* sc, const qb_eval_result* r, const qb_eval_result* ref,
                 qb_task_score* out, qb_error* err) {
  return qb_task_evaluate(sc->task, r->logits, r->count, r->classes, sc->test->labels, sc->labels,
                          ref->logits, out, err);
}

/* "top-1 fp32:        88.20%" and the task's secondary metrics. Classifiers keep the
 * historical "top-1" lines (scripts read them). */
static void print_score(const qb_task_ctx* t, const char* what, const qb_task_score* s,
                        const qb_task_score* fp32) {
  char head[64];
  snprintf(head, sizeof head, "%s %s:", qb_task_metric_short(t->task), what);
  printf("%-18s %.2f%%", head, s->score);
  if (fp32) printf("  (drop %+.2f points)", fp32->score - s->score);
  if (t->task == QB_TASK_OCR_REC) printf("  CER %.2f%%", s->cer);
  if (t->task == QB_TASK_OCR_DET) printf("  precision %.2f%%, recall %.2f%%", s->precision, s->recall);
  putchar('\n');
}

static void print_output_errors(const qb_task_ctx* t, const qb_eval_result* fp32,
                                const qb_eval_result* r) {
  for (size_t k = 0; k < t->noutputs; k++) {
    qb_error_metrics em;
    double agree;
    qb_error err;
    if (qb_task_output_metrics(t, r->logits, fp32->logits, r->count, r->classes, k, &em, &agree, &err))
      continue;
    printf("output %-11s SQNR %.2f dB, cosine %.6f, max error %.4g, argmax agreement %.2f%%\n",
           t->output_name[k], em.sqnr_db, em.cosine, em.max_abs, agree);
  }
}

static int run_quantized(const eval_args* a, qb_model* m, const qb_dataset* test,
                         const qb_dataset* calib, const scoring* sc, const qb_eval_result* fp32,
                         const qb_task_score* s32, qb_error* err) {
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
  if (qb_model_evaluate_task(m, test, (size_t)a->limit, (size_t)a->batch, &se, sc->task,
                             tty ? progress_bar : NULL, "simulated", &sim, err) ||
      qb_model_evaluate_task(m, test, (size_t)a->limit, (size_t)a->batch, &ie, sc->task,
                             tty ? progress_bar : NULL, "integer", &integer, err))
    goto done;
  qb_task_score ssim, sint;
  if (score(sc, &sim, fp32, &ssim, err) || score(sc, &integer, fp32, &sint, err)) goto done;
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
  print_score(sc->task, "simulated", &ssim, s32);
  print_score(sc->task, "integer", &sint, s32);
  const qb_task_ctx* t = sc->task;
  printf("agreement with fp32 (%s): simulated %.2f%%, integer %.2f%%; integer vs simulated %.2f%%\n",
         t->task == QB_TASK_OCR_REC ? "decoded line" : t->task == QB_TASK_OCR_DET ? "box set" : "top-1",
         qb_task_agreement(t, fp32->logits, sim.logits, fp32->count, fp32->classes),
         qb_task_agreement(t, fp32->logits, integer.logits, fp32->count, fp32->classes),
         qb_task_agreement(t, sim.logits, integer.logits, fp32->count, fp32->classes));
  if (t->task == QB_TASK_OUTPUTS) print_output_errors(t, fp32, &integer);
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
  qb_task_labels labels = {0};
  qb_task_ctx task = {0};
  int rc = QB_EXIT_USAGE;
  qb_eval_result fp32 = {0};
  if (load_data(&a, &m, &test, &calib, &labels, &err) || check_data_shape(&m, &test, &err) ||
      qb_task_ctx_init(&task, a.task, &m, a.dictionary, &err))
    goto done;
  rc = QB_EXIT_FAILURE;
  const scoring sc = {&task, &test, &labels};
  qb_task_score s32;
  if (qb_model_set_threads(&m, (size_t)a.threads, &err)) goto done;
  if (qb_model_evaluate_task(&m, &test, (size_t)a.limit, (size_t)a.batch, NULL, &task,
                             isatty(2) ? progress_bar : NULL, "fp32", &fp32, &err) ||
      score(&sc, &fp32, &fp32, &s32, &err))
    goto done;
  printf("model:             %s%s%s\n", a.model, m.meta_model[0] ? "  name " : "", m.meta_model);
  printf("task:              %s (%s)\n", qb_task_name(a.task), qb_task_metric(a.task));
  printf("data:              %s, %zu samples%s%s\n", a.data, fp32.count, a.labels ? ", labels " : "",
         a.labels ? a.labels : "");
  if (a.qconfig)
    printf("calibration:       %s, %zu samples\n",
           !strcmp(a.data, "fashion-mnist") ? "the last 5,000 Fashion-MNIST training images"
           : a.calib_data                   ? a.calib_data
                                            : "the held-out tail of the data (not evaluated)",
           a.calib_limit && (size_t)a.calib_limit < calib.count ? (size_t)a.calib_limit : calib.count);
  print_preprocessing(&a, &m);
  printf("fp32 path:         %s, %zu thread%s\n", qb_model_f32_gemm_name(), qb_model_threads(&m),
         qb_model_threads(&m) == 1 ? "" : "s");
  printf("activation arena:  %zu bytes at batch %zu (one buffer per tensor: %zu)\n", m.arena_bytes,
         m.batch, m.naive_bytes);
  print_score(&task, "fp32", &s32, NULL);
  if (a.export_fp32) {
    if (qb_model_export_onnx(&m, a.export_fp32, &err)) goto done;
    printf("wrote:             %s (fp32)\n", a.export_fp32);
  }
  rc = a.qconfig ? run_quantized(&a, &m, &test, &calib, &sc, &fp32, &s32, &err) : QB_EXIT_OK;
done:
  if (rc != QB_EXIT_OK) fprintf(stderr, "qbench eval: error: %s\n", err.msg);
  qb_eval_result_free(&fp32);
  qb_task_ctx_free(&task), qb_task_labels_free(&labels);
  qb_dataset_free(&test), qb_dataset_free(&calib);
  qb_model_free(&m);
  return rc;
}
