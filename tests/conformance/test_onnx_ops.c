/* ONNX node conformance of the model runtime's fp32 ops (harness/ops): every
 * libonnx-testdata case under QB_ONNX_TESTDATA/node/ whose name starts with one of
 * the prefixes below is loaded with qb_model_load_onnx, fed test_data_set_0's
 * inputs (int64 inputs such as Reshape's shape, and the float parameters of Resize
 * (roi, scales) and Range, are bound as constants, as an exporter would store them),
 * run in fp32 and compared with the expected outputs (integer outputs, such as
 * Shape's, computed at prepare, as exact floats):
 *   |got - want| <= 1e-5 * |want| + 1e-6   (relative 1e-5; the absolute term only
 *   matters next to 0), same shape, NaN only where NaN is expected.
 * One line per case: PASS, FAIL with the first mismatch, or SKIP with the reason.
 * Every case not in the skip list must pass, and the skip list is checked too:
 * each skipped case must still be rejected with a clear error (so a fix shows). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model.h"
#include "qb_onnx.h"
#include "qb_test.h"

static const char* const prefixes[] = {
    "test_gemm_", "test_matmul_", "test_basic_conv_with", "test_conv_with", "test_relu",
    "test_clip", "test_maxpool_", "test_averagepool_", "test_globalaveragepool", "test_flatten_",
    "test_reshape_", "test_transpose_", "test_add", "test_sub", "test_mul", "test_div", "test_pow",
    "test_softmax_", "test_layer_normalization_", "test_erf", "test_concat_", "test_slice",
    "test_batchnorm_", "test_hardsigmoid", "test_hardswish", "test_sigmoid", "test_reduce_mean_",
    "test_sqrt", "test_identity", "test_shape", "test_cast_", "test_gather_0", "test_gather_1",
    "test_gather_2d", "test_gather_negative", "test_squeeze",
    "test_unsqueeze", "test_resize_", "test_convtranspose", "test_range_", "test_reduce_mean_",
};

/* Cases the runtime rejects on purpose, with why (they must fail to load or prepare). */
static const struct {
  const char* name;
  const char* why;
} skips[] = {
    {"test_maxpool_1d_default", "1-D pooling (2-D only)"},
    {"test_maxpool_3d_default", "3-D pooling"},
    {"test_averagepool_1d_default", "1-D pooling"},
    {"test_averagepool_3d_default", "3-D pooling"},
    {"test_maxpool_2d_uint8", "uint8 tensors (float32 only)"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "the Indices output"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "the Indices output"},
    {"test_add_uint8", "uint8 tensors"},
    {"test_sub_uint8", "uint8 tensors"},
    {"test_mul_uint8", "uint8 tensors"},
    {"test_div_uint8", "uint8 tensors"},
    {"test_clip_default_int8_inbounds", "int8 tensors"},
    {"test_clip_default_int8_max", "int8 tensors"},
    {"test_clip_default_int8_min", "int8 tensors"},
    {"test_pow_types_int", "integer tensors"},
    {"test_pow_types_int32_int32", "integer tensors"},
    {"test_pow_types_int64_int64", "integer tensors"},
    {"test_pow_types_int32_float32", "integer tensors"},
    {"test_pow_types_int64_float32", "integer tensors"},
    {"test_pow_types_float32_int32", "integer exponent tensors"},
    {"test_pow_types_float32_int64", "integer exponent tensors"},
    {"test_pow_types_float32_uint32", "uint32 exponent tensors"},
    {"test_pow_types_float32_uint64", "uint64 exponent tensors"},
    {"test_batchnorm_epsilon_training_mode", "training mode"},
    {"test_batchnorm_example_training_mode", "training mode"},
    {"test_pow_types_float", "int64 base tensor"},
    {"test_globalaveragepool", "opset 1 (9..18 supported)"},
    {"test_globalaveragepool_precomputed", "opset 1 (9..18 supported)"},
    {"test_hardsigmoid", "opset 6 (9..18 supported)"},
    {"test_hardsigmoid_default", "opset 6 (9..18 supported)"},
    {"test_hardsigmoid_example", "opset 6 (9..18 supported)"},
    {"test_identity_opt", "optional types"},
    {"test_identity_sequence", "sequence types"},
    {"test_cast_BFLOAT16_to_FLOAT", "bfloat16 tensors"},
    {"test_cast_DOUBLE_to_FLOAT", "float64 activations"},
    {"test_cast_DOUBLE_to_FLOAT16", "float64 activations"},
    {"test_cast_FLOAT16_to_DOUBLE", "float16 activations"},
    {"test_cast_FLOAT16_to_FLOAT", "float16 activations"},
    {"test_cast_FLOAT_to_BFLOAT16", "bfloat16 activations"},
    {"test_cast_FLOAT_to_DOUBLE", "float64 activations"},
    {"test_cast_FLOAT_to_FLOAT16", "float16 activations"},
    {"test_cast_FLOAT_to_STRING", "string tensors"},
    {"test_cast_STRING_to_FLOAT", "string tensors"},
    {"test_convtranspose_1d", "1-D ConvTranspose (2-D only)"},
    {"test_convtranspose_3d", "3-D ConvTranspose"},
    {"test_convtranspose_with_kernel", "opset 8 (9..18 supported)"},
    {"test_resize_downsample_scales_cubic", "cubic Resize"},
    {"test_resize_downsample_scales_cubic_A_n0p5_exclude_outside", "cubic Resize"},
    {"test_resize_downsample_scales_cubic_align_corners", "cubic Resize"},
    {"test_resize_downsample_sizes_cubic", "cubic Resize"},
    {"test_resize_upsample_scales_cubic", "cubic Resize"},
    {"test_resize_upsample_scales_cubic_A_n0p5_exclude_outside", "cubic Resize"},
    {"test_resize_upsample_scales_cubic_align_corners", "cubic Resize"},
    {"test_resize_upsample_scales_cubic_asymmetric", "cubic Resize"},
    {"test_resize_upsample_sizes_cubic", "cubic Resize"},
    {"test_resize_tf_crop_and_resize", "tf_crop_and_resize"},
};

static const char* skip_reason(const char* name) {
  for (size_t i = 0; i < sizeof skips / sizeof *skips; i++)
    if (!strcmp(skips[i].name, name)) return skips[i].why;
  return NULL;
}

static bool selected(const char* name) {
  if (strstr(name, "_expanded")) return false; /* graphs of other primitive ops */
  for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
    if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) return true;
  return false;
}

static int cmp_str(const void* a, const void* b) {
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

#define MAX_IO 8

/* Runs one case; returns 0 pass, -1 failure (message in err). */
static int run_case(const char* dir, qb_error* err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  qb_model m;
  if (qb_model_load_onnx(path, &m, err)) return -1;
  qb_onnx_model om;
  if (qb_onnx_model_read(path, &om, err)) {
    qb_model_free(&m);
    return -1;
  }
  const Onnx__GraphProto* g = om.graph;
  qb_tensor ins[MAX_IO], outs[MAX_IO];
  char names[MAX_IO][256];
  memset(ins, 0, sizeof ins), memset(outs, 0, sizeof outs);
  int rc = -1;
  size_t nin = 0, nout = 0, batch = 1;
  for (; nin < MAX_IO; nin++) {
    snprintf(path, sizeof path, "%s/test_data_set_0/input_%zu.pb", dir, nin);
    FILE* f = fopen(path, "rb");
    if (!f) break;
    fclose(f);
    if (qb_onnx_tensor_read(path, &ins[nin], names[nin], sizeof names[nin], err)) goto done;
    /* Unnamed: the graph input at the same position that is not an initializer. */
    if (!names[nin][0]) {
      size_t k = 0;
      for (size_t i = 0; i < g->n_input; i++) {
        if (qb_onnx_find_initializer(g, g->input[i]->name)) continue;
        if (k++ == nin) snprintf(names[nin], sizeof names[nin], "%s", g->input[i]->name);
      }
    }
    const bool param = ins[nin].dtype != QB_F32 || (nin > 0 && strstr(dir, "/test_resize_")) ||
                       strstr(dir, "/test_range_");
    if (param && qb_model_bind_constant(&m, names[nin], &ins[nin], err)) goto done;
    if (!param && ins[nin].ndim > 0) batch = ins[nin].dims[0];
  }
  for (; nout < MAX_IO; nout++) {
    snprintf(path, sizeof path, "%s/test_data_set_0/output_%zu.pb", dir, nout);
    FILE* f = fopen(path, "rb");
    if (!f) break;
    fclose(f);
    if (qb_onnx_tensor_read(path, &outs[nout], NULL, 0, err)) goto done;
  }
  if (qb_model_prepare(&m, batch ? batch : 1, err)) goto done;
  const float* data[MAX_IO] = {0};
  for (size_t i = 0; i < m.ninputs; i++) {
    const char* want = m.values[m.inputs[i]].name;
    for (size_t k = 0; k < nin; k++)
      if (!strcmp(names[k], want) && ins[k].dtype == QB_F32) data[i] = ins[k].data;
  }
  if (qb_model_run_f32(&m, data, NULL, NULL, err)) goto done;
  for (size_t o = 0; o < nout && o < m.noutputs; o++) {
    const qb_value* y = qb_model_output(&m, o);
    if (outs[o].dtype == QB_I64 || outs[o].dtype == QB_I32) {
      qb_tensor f;
      if (qb_tensor_alloc(&f, QB_F32, outs[o].ndim, outs[o].dims, err)) goto done;
      for (size_t i = 0; i < qb_tensor_numel(&f); i++)
        ((float*)f.data)[i] = outs[o].dtype == QB_I64 ? (float)((const int64_t*)outs[o].data)[i]
                                                       : (float)((const int32_t*)outs[o].data)[i];
      qb_tensor_free(&outs[o]);
      outs[o] = f;
    }
    if (outs[o].dtype != QB_F32) {
      qb_fail(err, "expected output %zu is %s", o, qb_dtype_name(outs[o].dtype));
      goto done;
    }
    if (qb_tensor_numel(&outs[o]) != y->numel || outs[o].ndim != y->ndim ||
        memcmp(outs[o].dims, y->dims, (size_t)y->ndim * sizeof *y->dims)) {
      qb_fail(err, "output %zu: shape differs (%zu elements, expected %zu)", o, y->numel,
              qb_tensor_numel(&outs[o]));
      goto done;
    }
    const float* want = outs[o].data;
    for (size_t i = 0; i < y->numel; i++) {
      const float a = y->data[i], b = want[i];
      const bool ok = (isnan(a) && isnan(b)) || (a == b) ||
                      fabsf(a - b) <= 1e-5f * fabsf(b) + 1e-6f;
      if (!ok) {
        qb_fail(err, "output %zu[%zu] = %.9g, expected %.9g", o, i, (double)a, (double)b);
        goto done;
      }
    }
  }
  rc = 0;
done:
  for (size_t i = 0; i < MAX_IO; i++) qb_tensor_free(&ins[i]), qb_tensor_free(&outs[i]);
  qb_onnx_model_free(&om);
  qb_model_free(&m);
  return rc;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* root = QB_ONNX_TESTDATA "/node";
  DIR* d = opendir(root);
  if (!d) qb_test_skip("libonnx-testdata is not installed");
  char* cases[1024];
  size_t n = 0;
  for (struct dirent* e; (e = readdir(d)) && n < 1024;)
    if (selected(e->d_name)) cases[n++] = strdup(e->d_name);
  closedir(d);
  qsort(cases, n, sizeof *cases, cmp_str);
  size_t pass = 0, skipped = 0;
  for (size_t i = 0; i < n; i++) {
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/%s", root, cases[i]);
    qb_error err = {{0}};
    const int rc = run_case(dir, &err);
    const char* why = skip_reason(cases[i]);
    if (why) {
      printf("SKIP %s (%s): %s\n", cases[i], why, rc ? err.msg : "UNEXPECTEDLY PASSES");
      QB_CHECK_MSG(rc != 0, "%s is in the skip list but passes", cases[i]);
      skipped++;
    } else {
      printf("%s %s%s%s\n", rc ? "FAIL" : "PASS", cases[i], rc ? ": " : "", rc ? err.msg : "");
      QB_CHECK_MSG(rc == 0, "%s: %s", cases[i], err.msg);
      pass += rc == 0;
    }
    free(cases[i]);
  }
  printf("%zu cases: %zu pass, %zu skipped\n", n, pass, skipped);
  QB_CHECK(pass >= 150); /* the selection really ran */
  return qb_test_finish("test_onnx_ops");
}
