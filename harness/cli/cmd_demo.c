/* qbench demo: the main job until the sweep lands. Trains a linear softmax
 * classifier on Fashion-MNIST (real data, real trained weights), quantizes it
 * under a set of weight/activation schemes, runs each quantized model both
 * simulated (fake-quant, fp32 math) and on the integer reference GEMM, and prints
 * what each choice costs: tensor errors, top-1 accuracy, drop from fp32, top-1
 * agreement and KL divergence with the fp32 model. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb_cli.h"
#include "qb_fashion_mnist.h"
#include "qb_gnuplot.h"
#include "qb_metrics.h"
#include "qb_npy.h"
#include "qb_softmax_regression.h"
#include "qb_tensor_quant.h"

#define CALIBRATION_IMAGES 1000 /* the first 1000 training images, in file order */

void qb_cmd_demo_help(void) {
  printf(
      "usage: qbench demo [options]\n\n"
      "Train a linear softmax classifier on Fashion-MNIST, quantize it under several\n"
      "weight/activation schemes, run it simulated and on the integer reference GEMM,\n"
      "and print the accuracy cost of each scheme. Writes demo.csv and the trained\n"
      "weight (linear_weight.npy, 10 x 784) into the output folder.\n\n"
      "options:\n"
      "  --data DIR     Fashion-MNIST IDX folder (default " QB_FASHION_MNIST ")\n"
      "  --out DIR      output folder (default results/demo)\n"
      "  --epochs N     training epochs (default 3)\n"
      "  --seed S       shuffling seed (default 1)\n"
      "  -h, --help     this help\n\n"
      "Calibration uses the first %d training images; evaluation the 10,000 test images.\n",
      CALIBRATION_IMAGES);
}

typedef struct {
  qb_tensor_qspec w;
  qb_tensor_qspec a;
} demo_config;

static qb_tensor_qspec spec(qb_symmetry sym, bool is_signed, int bits, qb_granularity_kind g,
                            size_t group, const char* range) {
  qb_tensor_qspec s;
  memset(&s, 0, sizeof s);
  s.scheme = (qb_qscheme){bits, is_signed, false, sym, QB_ROUND_DIV};
  s.granularity = (qb_granularity){g, g == QB_PER_GROUP ? -1 : 0, group};
  qb_range_parse(range, &s.range, NULL);
  return s;
}

static size_t build_configs(demo_config* c) {
  const qb_tensor_qspec a8 = spec(QB_AFFINE, false, 8, QB_PER_TENSOR, 0, "minmax");
  size_t n = 0;
#define W(bits, g, group, range) spec(QB_SYMMETRIC, true, bits, g, group, range)
  c[n++] = (demo_config){W(8, QB_PER_TENSOR, 0, "minmax"), a8};
  c[n++] = (demo_config){W(8, QB_PER_CHANNEL, 0, "minmax"), a8};
  c[n++] = (demo_config){W(4, QB_PER_TENSOR, 0, "minmax"), a8};
  c[n++] = (demo_config){W(4, QB_PER_TENSOR, 0, "mse"), a8};
  c[n++] = (demo_config){W(4, QB_PER_CHANNEL, 0, "minmax"), a8};
  c[n++] = (demo_config){W(4, QB_PER_CHANNEL, 0, "mse"), a8};
  c[n++] = (demo_config){W(4, QB_PER_GROUP, 32, "minmax"), a8};
  c[n++] = (demo_config){W(2, QB_PER_CHANNEL, 0, "mse"), a8};
  c[n++] = (demo_config){W(8, QB_PER_CHANNEL, 0, "minmax"), spec(QB_AFFINE, false, 4, QB_PER_TENSOR, 0, "minmax")};
  c[n++] = (demo_config){W(8, QB_PER_CHANNEL, 0, "minmax"), spec(QB_AFFINE, false, 4, QB_PER_TENSOR, 0, "percentile:99.99")};
  c[n++] = (demo_config){W(8, QB_PER_CHANNEL, 0, "minmax"), spec(QB_AFFINE, false, 4, QB_PER_TENSOR, 0, "mse")};
  c[n++] = (demo_config){W(8, QB_PER_CHANNEL, 0, "minmax"), spec(QB_AFFINE, false, 4, QB_PER_TENSOR, 0, "entropy")};
#undef W
  return n;
}

typedef struct {
  double w_sqnr, a_sqnr, logit_sqnr, top1, agreement, kl, int_top1, int_vs_sim;
  bool has_int;
} demo_result;

static double accuracy(const float* logits, const uint8_t* labels, size_t n, size_t classes) {
  size_t right = 0;
  for (size_t i = 0; i < n; i++) right += qb_argmax(logits + i * classes, classes) == labels[i];
  return (double)right / (double)n;
}

typedef struct {
  const float* x_test;
  const uint8_t* labels;
  size_t n_test, features, classes;
  const qb_tensor* weight;
  const float* bias;
  const qb_tensor* calib;
  const float* fp32_logits;
} demo_data;

/* Integer path: u8 activations x s8 weights on the reference GEMM, then
 * logits = acc * (sx * sw[n]) + b. Per-tensor or per-channel weights only. */
static void run_integer(const demo_data* d, const qb_quantized_tensor* wq, qb_qparams ap,
                        const qb_tensor_qspec* as, float* logits) {
  const size_t N = d->classes, K = d->features, M = d->n_test;
  uint8_t* xq = malloc(M * K);
  int8_t* w8 = malloc(N * K);
  int32_t* zp = malloc(N * sizeof *zp);
  int32_t* acc = malloc(M * N * sizeof *acc);
  qb_f32_qu8_quantize__scalar(M * K, d->x_test, ap.scale, ap.zero_point, qb_qscheme_qmin(&as->scheme),
                              qb_qscheme_qmax(&as->scheme), as->scheme.rounding, xq);
  for (size_t i = 0; i < N * K; i++) w8[i] = (int8_t)wq->q[i];
  for (size_t n = 0; n < N; n++) zp[n] = wq->params[wq->layout.nunits == 1 ? 0 : n].zero_point;
  qb_qu8_qs8_qs32_gemm__scalar(M, N, K, xq, K, ap.zero_point, w8, K, zp, acc, N);
  for (size_t m = 0; m < M; m++)
    for (size_t n = 0; n < N; n++) {
      const float sw = wq->params[wq->layout.nunits == 1 ? 0 : n].scale;
      logits[m * N + n] = (float)acc[m * N + n] * (ap.scale * sw) + d->bias[n];
    }
  free(xq), free(w8), free(zp), free(acc);
}

static int run_config(const demo_data* d, const demo_config* c, demo_result* r, qb_error* err) {
  qb_quantized_tensor wq, calib_q;
  memset(r, 0, sizeof *r);
  if (qb_quantize_tensor(&c->w, d->weight, &wq, err)) return -1;
  if (qb_quantize_tensor(&c->a, d->calib, &calib_q, err)) {
    qb_quantized_tensor_free(&wq);
    return -1;
  }
  const qb_qparams ap = calib_q.params[0];
  qb_quantized_tensor_free(&calib_q);
  const size_t MK = d->n_test * d->features, MN = d->n_test * d->classes;
  int32_t* xq = malloc(MK * sizeof *xq);
  float* x_fq = malloc(MK * sizeof *x_fq);
  float* logits = malloc(MN * sizeof *logits);
  float* int_logits = malloc(MN * sizeof *int_logits);
  qb_error_metrics m;
  /* Static activation quantization with the calibrated qparams. */
  qb_f32_qs32_quantize__scalar(MK, d->x_test, ap.scale, ap.zero_point, qb_qscheme_qmin(&c->a.scheme),
                               qb_qscheme_qmax(&c->a.scheme), c->a.scheme.rounding, xq);
  qb_qs32_f32_dequantize__scalar(MK, xq, ap.scale, ap.zero_point, x_fq);
  qb_metrics_compute(d->weight->data, wq.dequant, qb_tensor_numel(d->weight), &m, err);
  r->w_sqnr = m.sqnr_db;
  qb_metrics_compute(d->x_test, x_fq, MK, &m, err);
  r->a_sqnr = m.sqnr_db;
  qb_linear_forward(d->n_test, d->features, d->classes, x_fq, wq.dequant, d->bias, logits);
  qb_metrics_compute(d->fp32_logits, logits, MN, &m, err);
  r->logit_sqnr = m.sqnr_db;
  r->top1 = accuracy(logits, d->labels, d->n_test, d->classes);
  r->agreement = qb_top1_agreement(d->fp32_logits, logits, d->n_test, d->classes);
  r->kl = qb_kl_divergence_logits(d->fp32_logits, logits, d->n_test, d->classes);
  r->has_int = c->w.granularity.kind != QB_PER_GROUP && c->a.scheme.bits <= 8;
  if (r->has_int) {
    run_integer(d, &wq, ap, &c->a, int_logits);
    r->int_top1 = accuracy(int_logits, d->labels, d->n_test, d->classes);
    qb_metrics_compute(logits, int_logits, MN, &m, err);
    r->int_vs_sim = m.max_abs;
  }
  free(xq), free(x_fq), free(logits), free(int_logits);
  qb_quantized_tensor_free(&wq);
  return 0;
}

static void describe(const qb_tensor_qspec* s, char* buf, size_t len) {
  char g[32], r[32];
  snprintf(buf, len, "%s %c%d %s %s", s->scheme.symmetry == QB_SYMMETRIC ? "sym" : "aff",
           s->scheme.is_signed ? 's' : 'u', s->scheme.bits,
           qb_granularity_str(&s->granularity, g, sizeof g), qb_range_str(&s->range, r, sizeof r));
}

static float* to_float(const uint8_t* pixels, size_t n) {
  float* x = malloc(n * sizeof *x);
  if (x)
    for (size_t i = 0; i < n; i++) x[i] = (float)pixels[i] / 255.0f;
  return x;
}

static int parse_demo_opts(int argc, char** argv, const char** data, const char** out,
                           long* epochs, long* seed) {
  static const struct option longopts[] = {{"data", required_argument, 0, 'd'},
                                           {"out", required_argument, 0, 'o'},
                                           {"epochs", required_argument, 0, 'e'},
                                           {"seed", required_argument, 0, 's'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': *data = optarg; break;
      case 'o': *out = optarg; break;
      case 'e':
        if (!qb_cli_parse_long(optarg, 1, 100, epochs))
          return qb_cli_usage_error("demo", "--epochs '%s': expected 1..100", optarg);
        break;
      case 's':
        if (!qb_cli_parse_long(optarg, 0, 1L << 62, seed))
          return qb_cli_usage_error("demo", "--seed '%s': expected a non-negative integer", optarg);
        break;
      case 'h': qb_cmd_demo_help(); return -1;
      case ':': return qb_cli_usage_error("demo", "option %s needs a value", argv[optind - 1]);
      default: return qb_cli_usage_error("demo", "unknown option '%s' (see qbench demo --help)", argv[optind - 1]);
    }
  }
  if (optind != argc) return qb_cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
  return 0;
}

static int make_dirs(const char* path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char* p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      mkdir(buf, 0777);
      *p = '/';
    }
  return mkdir(buf, 0777) == 0 || access(buf, W_OK) == 0 ? 0 : -1;
}

int qb_cmd_demo(int argc, char** argv) {
  const char *data_dir = QB_FASHION_MNIST, *out_dir = "results/demo";
  long epochs = 3, seed = 1;
  int rc = parse_demo_opts(argc, argv, &data_dir, &out_dir, &epochs, &seed);
  if (rc) return rc < 0 ? QB_EXIT_OK : rc;
  qb_error err;
  qb_fmnist train, test;
  if (qb_fmnist_load(data_dir, "train", &train, &err) || qb_fmnist_load(data_dir, "t10k", &test, &err)) {
    fprintf(stderr, "qbench demo: error: %s\n", err.msg);
    return QB_EXIT_USAGE;
  }
  const size_t F = train.rows * train.cols, C = 10;
  float* x_train = to_float(train.pixels, train.count * F);
  float* x_test = to_float(test.pixels, test.count * F);
  fprintf(stderr, "training a linear softmax classifier on %zu Fashion-MNIST images (%ld epochs)...\n",
          train.count, epochs);
  qb_softmax_regression model;
  const qb_sgd_recipe recipe = {(int)epochs, 100, 0.1f, (uint64_t)seed};
  if (!x_train || !x_test ||
      qb_softmax_regression_train(&model, C, F, x_train, train.labels, train.count, &recipe)) {
    fprintf(stderr, "qbench demo: error: out of memory\n");
    return QB_EXIT_FAILURE;
  }
  qb_tensor weight = {QB_F32, 2, {C, F}, model.weight};
  qb_tensor calib = {QB_F32, 2, {CALIBRATION_IMAGES, F}, x_train};
  float* fp32_logits = malloc(test.count * C * sizeof *fp32_logits);
  qb_linear_forward(test.count, F, C, x_test, model.weight, model.bias, fp32_logits);
  const double fp32_top1 = accuracy(fp32_logits, test.labels, test.count, C);
  demo_data d = {x_test, test.labels, test.count, F, C, &weight, model.bias, &calib, fp32_logits};

  rc = QB_EXIT_OK;
  FILE* csv = NULL;
  char path[4200];
  if (make_dirs(out_dir) == 0) {
    snprintf(path, sizeof path, "%s/linear_weight.npy", out_dir);
    if (qb_npy_write(path, &weight, &err)) fprintf(stderr, "qbench demo: warning: %s\n", err.msg);
    snprintf(path, sizeof path, "%s/demo.csv", out_dir);
    csv = fopen(path, "w");
  }
  if (!csv) fprintf(stderr, "qbench demo: warning: cannot write into %s\n", out_dir);
  else fprintf(csv, "weights,activations,weight_sqnr_db,act_sqnr_db,logit_sqnr_db,top1,top1_drop,"
               "agreement,kl,int_top1,int_vs_sim_max_abs\n");

  printf("\nFashion-MNIST linear classifier (784 -> 10), fp32 top-1 on 10k test images: %.2f %%\n",
         100.0 * fp32_top1);
  printf("activations: static, calibrated on the first %d training images; "
         "weights quantized as listed\n\n", CALIBRATION_IMAGES);
  printf("%-30s %-28s %8s %8s %8s %7s %7s %7s %9s %8s %9s\n", "weights", "activations",
         "W SQNR", "A SQNR", "logitSQ", "top-1", "drop", "agree", "KL", "int top1",
         "|int-sim|");
  demo_config configs[16];
  const size_t nconfigs = build_configs(configs);
  for (size_t i = 0; i < nconfigs && rc == QB_EXIT_OK; i++) {
    demo_result r;
    char wd[64], ad[64];
    describe(&configs[i].w, wd, sizeof wd);
    describe(&configs[i].a, ad, sizeof ad);
    if (run_config(&d, &configs[i], &r, &err)) {
      fprintf(stderr, "qbench demo: error: %s\n", err.msg);
      rc = QB_EXIT_FAILURE;
      break;
    }
    char int_top1[16] = "n/a", int_diff[16] = "n/a";
    if (r.has_int) {
      snprintf(int_top1, sizeof int_top1, "%.2f", 100.0 * r.int_top1);
      snprintf(int_diff, sizeof int_diff, "%.2e", r.int_vs_sim);
    }
    printf("%-30s %-28s %8.2f %8.2f %8.2f %7.2f %7.2f %7.2f %9.2e %8s %9s\n", wd, ad, r.w_sqnr,
           r.a_sqnr, r.logit_sqnr, 100.0 * r.top1, 100.0 * (fp32_top1 - r.top1),
           100.0 * r.agreement, r.kl, int_top1, int_diff);
    if (csv)
      fprintf(csv, "%s,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.6g,%s,%s\n", wd, ad, r.w_sqnr, r.a_sqnr,
              r.logit_sqnr, 100.0 * r.top1, 100.0 * (fp32_top1 - r.top1), 100.0 * r.agreement,
              r.kl, int_top1, int_diff);
  }
  printf("\nSQNR in dB (higher is better); top-1, drop and agreement in %%; KL(fp32 || quantized)"
         " in nats;\nint top1: the same model on the integer reference GEMM (u8 x s8 -> s32);"
         " |int-sim|: max logit\ndifference between the integer and the fake-quant simulation.\n");
  if (csv) {
    fclose(csv);
    printf("\nwrote %s/demo.csv and %s/linear_weight.npy\n", out_dir, out_dir);
    char png[4200];
    snprintf(png, sizeof png, "%s/demo_accuracy.png", out_dir);
    if (rc == QB_EXIT_OK && qb_gnuplot_render("demo_accuracy.gp", path, png, &err) == 0)
      printf("plotted %s\n", png);
    else if (rc == QB_EXIT_OK)
      fprintf(stderr, "qbench demo: warning: no plot: %s\n", err.msg);
  }
  free(fp32_logits), free(x_train), free(x_test);
  qb_softmax_regression_free(&model);
  qb_fmnist_free(&train), qb_fmnist_free(&test);
  return rc;
}
