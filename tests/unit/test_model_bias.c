/* The int32 bias rule and the requantization scale of a static layer, worked by hand.
 *
 * qb_model_calib.c: bias_q[c] = round_half_even(b[c] / (sx * sw[c])) (the quotient in
 * float32, as ONNX Runtime's quantization tools compute it), saturated to int32;
 * requant_scale[c] = sx * sw[c] / sy in float32.
 *
 * A one-layer Gemm y = x W^T + b with one input feature is chosen so every scale is a
 * power of two and every quotient exact:
 *   calibration inputs x in {0, 127.5}, a8 affine u8: sx = 127.5 / 255 = 0.5, zp 0;
 *   weights w8 symmetric restricted per channel (sw = |w| / 127, the code 127 exact):
 *     w = 31.75, 63.5, 127, 15.875  ->  sw = 0.25, 0.5, 1, 0.125
 *     s = sx * sw                   ->  0.125, 0.25, 0.5, 0.0625
 *   biases chosen on and off ties:
 *     b = 0.3125  b/s =  2.5  -> 2   (half to even; half away from zero gives 3)
 *     b = 0.875   b/s =  3.5  -> 4   (truncation gives 3)
 *     b = -1.25   b/s = -2.5  -> -2  (half away from zero gives -3)
 *     b = 0.171875 b/s = 2.75 -> 3   (truncation gives 2)
 *   outputs at x = 127.5: 4048.4375, 8097.125, 16191.25, 2024.734375; at x = 0 the
 *   biases: range [-1.25, 16191.25], a8 affine: sy = 16192.5 / 255 = 63.5, zp 0, so
 *   requant_scale = s / 63.5.
 * A second layer has s = 2^-21 and b = +-2^12: b / s = +-2^33 saturates to INT32_MAX /
 * INT32_MIN, and qb_quant_layer reports 2 saturated channels.
 * The int8 GEMM's K bound (K * 255 * 128 < 2^31) refuses K = 65794 at quantization. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_quant_internal.h"
#include "qb_test.h"
#include "qb_test_model.h"

static int build_gemm(qb_model* m, size_t in, size_t out, const float* w, const float* b) {
  qb_onnx_builder* ob = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(ob, "x", QB_F32, 2, (int64_t[]){-1, (int64_t)in});
  qb_tensor tw, tb;
  qb_error err;
  if (qb_tensor_alloc(&tw, QB_F32, 2, (size_t[]){out, in}, &err) ||
      qb_tensor_alloc(&tb, QB_F32, 1, (size_t[]){out}, &err))
    return -1;
  if (w) memcpy(tw.data, w, out * in * sizeof(float));
  else memset(tw.data, 0, out * in * sizeof(float));
  memcpy(tb.data, b, out * sizeof(float));
  qb_onnx_builder_initializer(ob, "fc.weight", &tw);
  qb_onnx_builder_initializer(ob, "fc.bias", &tb);
  qb_tensor_free(&tw), qb_tensor_free(&tb);
  qb_onnx_node* n = qb_onnx_builder_node(ob, "Gemm", "fc", 3,
                                         (const char*[]){"x", "fc.weight", "fc.bias"}, 1,
                                         (const char*[]){"y"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_output(ob, "y", QB_F32, 2, (int64_t[]){-1, (int64_t)out});
  return qb_test_save_and_load(ob, m);
}

/* Calibration set {0, 127.5} on one feature. */
static void calib_set(qb_dataset* d) {
  memset(d, 0, sizeof *d);
  d->count = 2, d->sample_numel = 1, d->num_classes = 10;
  d->x = malloc(2 * sizeof *d->x);
  d->labels = calloc(2, sizeof *d->labels);
  d->x[0] = 0.0f, d->x[1] = 127.5f;
}

static void test_bias_rounding_and_requant(void) {
  const float w[4] = {31.75f, 63.5f, 127.0f, 15.875f};
  const float b[4] = {0.3125f, 0.875f, -1.25f, 0.171875f};
  const int32_t want_bias[4] = {2, 4, -2, 3};
  const float s[4] = {0.125f, 0.25f, 0.5f, 0.0625f};
  qb_model m;
  QB_CHECK(build_gemm(&m, 1, 4, w, b) == 0);
  qb_dataset d;
  calib_set(&d);
  qb_quant_state* q = qb_test_quantize(&m, "w8-sym-channel-restricted/a8-aff-minmax/static",
                                       QB_BACKEND_COUNT, &d);
  QB_CHECK(q != NULL);
  if (q) {
    qb_quant_layer_info li;
    qb_quant_layer(q, 0, &li);
    QB_CHECK(li.has_in_qparams && li.has_out_qparams);
    QB_CHECK_EQ_F32(li.in_scale, 0.5f);
    QB_CHECK_EQ_INT(li.in_zero_point, 0);
    QB_CHECK_EQ_F32(li.out_scale, 63.5f);
    QB_CHECK_EQ_INT(li.out_zero_point, 0);
    const qb_qlayer* L = &q->layers[0];
    QB_CHECK(L->bias_q && L->requant_scale && L->bias_fq);
    for (int c = 0; c < 4 && L->bias_q; c++) {
      QB_CHECK_EQ_F32(L->w_scale[c], s[c] / 0.5f);
      QB_CHECK_MSG(L->bias_q[c] == want_bias[c], "channel %d: bias_q %d, want %d", c,
                   (int)L->bias_q[c], (int)want_bias[c]);
      QB_CHECK_EQ_F32(L->bias_fq[c], (float)want_bias[c] * s[c]);
      QB_CHECK_EQ_F32(L->requant_scale[c], s[c] / 63.5f);
    }
    QB_CHECK(li.has_int32_bias);
    QB_CHECK_EQ_INT(li.bias_saturated, 0);
  }
  qb_quant_free(q);
  qb_dataset_free(&d);
  qb_model_free(&m);
}

static void test_bias_saturation(void) {
  /* sw = (127 * 2^-20) / 127 = 2^-20, s = 0.5 * 2^-20 = 2^-21; b = +-2^12. */
  const float w[3] = {127.0f * 0x1p-20f, 127.0f * 0x1p-20f, 127.0f * 0x1p-20f};
  const float b[3] = {4096.0f, -4096.0f, 0.0f};
  qb_model m;
  QB_CHECK(build_gemm(&m, 1, 3, w, b) == 0);
  qb_dataset d;
  calib_set(&d);
  qb_quant_state* q = qb_test_quantize(&m, "w8-sym-channel-restricted/a8-aff-minmax/static",
                                       QB_BACKEND_COUNT, &d);
  QB_CHECK(q != NULL);
  if (q) {
    const qb_qlayer* L = &q->layers[0];
    QB_CHECK(L->bias_q != NULL);
    if (L->bias_q) {
      QB_CHECK_EQ_INT(L->bias_q[0], INT32_MAX);
      QB_CHECK_EQ_INT(L->bias_q[1], INT32_MIN);
      QB_CHECK_EQ_INT(L->bias_q[2], 0);
    }
    qb_quant_layer_info li;
    qb_quant_layer(q, 0, &li);
    QB_CHECK(li.has_int32_bias);
    QB_CHECK_EQ_INT(li.bias_saturated, 2);
  }
  qb_quant_free(q);
  qb_dataset_free(&d);
  qb_model_free(&m);
}

/* K = 65793 is the largest reduction the int8 GEMM accumulates exactly; one more is
 * refused where the layer is built, with an error naming the bound. */
static void test_k_bound(void) {
  const size_t big = 65794;
  const float b[1] = {0.0f};
  qb_model m;
  QB_CHECK(build_gemm(&m, big, 1, NULL, b) == 0);
  qb_qconfig cfg;
  qb_error err;
  qb_quant_state* q = NULL;
  QB_CHECK(qb_qconfig_parse("w8/a8/static", &cfg, &err) == 0);
  QB_CHECK(qb_model_prepare(&m, 1, &err) == 0);
  QB_CHECK(qb_quant_create(&m, &cfg, QB_BACKEND_COUNT, &q, &err) != 0);
  QB_CHECK_MSG(strstr(err.msg, "65794") && strstr(err.msg, "65793"), "%s", err.msg);
  qb_quant_free(q);
  qb_model_free(&m);
  QB_CHECK(build_gemm(&m, big - 1, 1, NULL, b) == 0);
  QB_CHECK(qb_model_prepare(&m, 1, &err) == 0);
  QB_CHECK_MSG(qb_quant_create(&m, &cfg, QB_BACKEND_COUNT, &q, &err) == 0, "%s", err.msg);
  qb_quant_free(q);
  qb_model_free(&m);
}

int main(void) {
  test_bias_rounding_and_requant();
  test_bias_saturation();
  test_k_bound();
  return qb_test_finish("test_model_bias");
}
