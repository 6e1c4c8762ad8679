/* Dynamic quantization per token (a8-token/dynamic): each row of a MatMul input gets
 * its own scale and zero point at run time, and the int8 GEMM runs once over all rows
 * with a common zero point that the epilogue corrects per row
 * (harness/qruntime/qb_model_qlayer.c).
 *   - qconfig: token is refused for weights and for static activations;
 *   - integer equals the simulation (fake-quant per row, fp32 GEMM) up to fp32
 *     summation order: a wrong zero-point correction is off by whole steps;
 *   - rows whose magnitudes differ 100x: per token, the small rows keep their
 *     precision (error far below per-tensor dynamic's);
 *   - a batch of 8 gives every sample what a batch of 1 gives;
 *   - every usable exact backend and 1 or 2 threads give bit-identical outputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_test.h"
#include "qb_test_model.h"

enum { T = 6, K = 40, N = 24, B = 8 };

/* x[N, T, K] -> MatMul (K x N) -> Add bias -> y[N, T, N]: a Linear over tokens. */
static int build_tokens(qb_model* m) {
  qb_onnx_builder* b = qb_onnx_builder_new("tokens", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 3, (int64_t[]){-1, T, K});
  qb_test_add_random_initializer(b, "w", 2, (size_t[]){K, N}, 0.3f);
  qb_test_add_random_initializer(b, "b", 1, (size_t[]){N}, 0.1f);
  qb_onnx_builder_node(b, "MatMul", "fc", 2, (const char*[]){"x", "w"}, 1, (const char*[]){"mm"});
  qb_onnx_builder_node(b, "Add", "fc.bias", 2, (const char*[]){"mm", "b"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 3, (int64_t[]){-1, T, N});
  return qb_test_save_and_load(b, m);
}

/* Token 0 of every sample is 100x larger than the others. */
static void make_input(float* x) {
  for (size_t s = 0; s < B; s++)
    for (size_t t = 0; t < T; t++)
      for (size_t k = 0; k < K; k++)
        x[(s * T + t) * K + k] = qb_rand_uniform(-1.0f, 1.0f) * (t == 0 ? 100.0f : 1.0f) + 0.3f;
}

static float* run(qb_model* m, const float* x, size_t batch, qb_exec_mode mode, qb_quant_state* q) {
  qb_test_capture c = {{0}, {0}};
  float* y = NULL;
  if (qb_test_run_capture(m, x, batch, mode, q, &c) == 0) {
    const qb_value* v = qb_model_output(m, 0);
    if ((y = malloc(v->numel * sizeof *y))) memcpy(y, v->data, v->numel * sizeof *y);
  }
  qb_test_capture_free(&c);
  return y;
}

static void check_qconfig(void) {
  qb_qconfig c;
  qb_error err;
  char buf[256];
  QB_CHECK(qb_qconfig_parse("w8/a8-token/dynamic", &c, &err) == 0);
  QB_CHECK(c.act.granularity.kind == QB_PER_TOKEN);
  QB_CHECK(strstr(qb_qconfig_str(&c, buf, sizeof buf), "a8-aff-token-minmax") != NULL);
  QB_CHECK(qb_qconfig_parse(buf, &c, &err) == 0 && c.act.granularity.kind == QB_PER_TOKEN);
  QB_CHECK(qb_qconfig_parse("w8/a8-token/static", &c, &err) != 0);
  QB_CHECK_MSG(strstr(err.msg, "dynamic") != NULL, "message: %s", err.msg);
  QB_CHECK(qb_qconfig_parse("w8-token/a8/dynamic", &c, &err) != 0);
}

/* Sum of |y - ref| over the rows t != 0 (the small tokens). */
static double small_token_error(const float* y, const float* ref) {
  double e = 0;
  for (size_t s = 0; s < B; s++)
    for (size_t t = 1; t < T; t++)
      for (size_t n = 0; n < N; n++) e += fabs(y[(s * T + t) * N + n] - ref[(s * T + t) * N + n]);
  return e;
}

static void check_accuracy(qb_model* m, const qb_dataset* d, const float* x) {
  float* fp = run(m, x, B, QB_EXEC_FP32, NULL);
  qb_quant_state* tok = qb_test_quantize(m, "w8/a8-token/dynamic", QB_BACKEND_COUNT, d);
  qb_quant_state* ten = qb_test_quantize(m, "w8/a8/dynamic", QB_BACKEND_COUNT, d);
  QB_CHECK(fp && tok && ten);
  if (!fp || !tok || !ten) return;
  float* yi = run(m, x, B, QB_EXEC_INTEGER, tok);
  float* ys = run(m, x, B, QB_EXEC_SIMULATED, tok);
  float* yt = run(m, x, B, QB_EXEC_INTEGER, ten);
  QB_CHECK(yi && ys && yt);
  if (yi && ys && yt) {
    /* One input step of a small token moves an output by about s_r * sum|w| ~ 0.01 *
     * 40 * 0.3 / 255 * 2 ~ 1e-3; fp32 summation order moves it by ~1e-6. */
    double worst = 0;
    for (size_t i = 0; i < (size_t)B * T * N; i++) worst = fmax(worst, fabs(yi[i] - ys[i]));
    QB_CHECK_MSG(worst < 1e-4, "integer vs simulated: %g", worst);
    const double e_tok = small_token_error(yi, fp), e_ten = small_token_error(yt, fp);
    printf("  small tokens, sum |y - fp32|: per token %.4g, per tensor %.4g\n", e_tok, e_ten);
    QB_CHECK(e_tok * 20 < e_ten);
  }
  free(yi), free(ys), free(yt), free(fp);
  qb_quant_free(tok), qb_quant_free(ten);
}

static void check_batch_independent(qb_model* m, const qb_dataset* d, const float* x) {
  qb_quant_state* q = qb_test_quantize(m, "w8/a8-token/dynamic", QB_BACKEND_COUNT, d);
  QB_CHECK(q != NULL);
  if (!q) return;
  for (int mode = QB_EXEC_SIMULATED; mode <= QB_EXEC_INTEGER; mode++) {
    float* all = run(m, x, B, (qb_exec_mode)mode, q);
    size_t same = 0;
    for (size_t s = 0; all && s < B; s++) {
      float* one = run(m, x + s * T * K, 1, (qb_exec_mode)mode, q);
      same += one && !memcmp(one, all + s * T * N, (size_t)T * N * sizeof *one);
      free(one);
    }
    QB_CHECK_EQ_INT((int)same, B);
    free(all);
  }
  qb_quant_free(q);
}

static void check_backends(qb_model* m, const qb_dataset* d, const float* x) {
  float* ref = NULL;
  size_t compared = 0;
  for (qb_backend be = QB_BACKEND_SCALAR; be < QB_BACKEND_COUNT; be++) {
    if (!qb_backend_describe(be)->exact || !qb_isa_usable(be)) continue;
    qb_quant_state* q = qb_test_quantize(m, "w8-aff-channel/a8-token/dynamic", be, d);
    QB_CHECK(q != NULL);
    for (size_t threads = 1; q && threads <= 2; threads++) {
      qb_error err;
      QB_CHECK(qb_quant_set_threads(q, threads, &err) == 0);
      float* y = run(m, x, B, QB_EXEC_INTEGER, q);
      QB_CHECK(y != NULL);
      if (!ref) {
        ref = y;
        continue;
      }
      QB_CHECK_MSG(y && !memcmp(ref, y, (size_t)B * T * N * sizeof *y), "%s, %zu threads differs",
                   qb_backend_name(be), threads);
      compared++;
      free(y);
    }
    qb_quant_free(q);
  }
  printf("  per token: %zu (backend, threads) runs bit-identical to scalar\n", compared);
  QB_CHECK(compared >= 1);
  free(ref);
}

int main(void) {
  qb_test_seed(20261202);
  check_qconfig();
  qb_model m;
  QB_CHECK(build_tokens(&m) == 0);
  qb_dataset d;
  qb_test_random_dataset(&d, 16, T * K);
  float* x = malloc((size_t)B * T * K * sizeof *x);
  make_input(x);
  check_accuracy(&m, &d, x);
  check_batch_independent(&m, &d, x);
  check_backends(&m, &d, x);
  free(x);
  qb_dataset_free(&d);
  qb_model_free(&m);
  return qb_test_finish("test_model_dynamic_token");
}
