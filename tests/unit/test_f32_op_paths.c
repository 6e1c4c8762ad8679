/* The fast paths of the fp32 op library (harness/ops), on one-node models:
 *  1. Conv (qb_f32_conv: padded planes, im2col into panels over virtual columns,
 *     bias while compacting, images or GEMMs over threads) bit-identical to its
 *     spec, per output element: acc = +0, then acc = fmaf(w, x, acc) for every tap
 *     inside the input in (c, ky, kx) order, then acc + bias; depthwise: acc = acc +
 *     w*x (multiply, then add) in (ky, kx) order, then + bias. Shapes: pointwise,
 *     3x3 pad 1, strides 1 and 2 along either axis, dilation, asymmetric pads,
 *     groups, depthwise, K across several KC blocks, rows wider than a panel, output
 *     sizes off the tile; batch 3 on 1, 2 and 3 threads (images split) and batch 1
 *     on 2 threads (GEMM split), on the best backend (QB_ISA_MASK picks others).
 *  2. MaxPool 2x2 stride 2 (the unrolled path) against the general comparison
 *     order, NaN and -0 included, odd sizes (the last row / column dropped).
 *  3. Erf: every 4099th float in [-6, 6] and the special values within the stated
 *     4.7e-7 of erf in double; erf(+-0) = +-0, erf(NaN) is NaN, erf(+-inf) = +-1.
 *  4. Softmax (last axis, the vectorized exp): rows of 1..70 values, some -inf,
 *     within 3e-7 relative (+1e-37 absolute) of softmax in double from the same
 *     float x - max; a NaN row stays NaN.
 *  5. GlobalAveragePool (channels summed 8 side by side) bit-identical to one double
 *     chain per channel in position order, then / hw, on channel counts around and
 *     off the lane count (batch x channels 1..2 x 1..21), planes of 1..20, values
 *     whose float mean depends on the summation order (a reversed order fails). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model.h"
#include "qb_onnx_builder.h"
#include "qb_test.h"
#include "qb_test_model.h"

typedef struct {
  size_t cin, h, w, cout, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups;
} conv_case;

static const conv_case k_cases[] = {
    {5, 5, 7, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},    /* pointwise, P = 35 */
    {3, 13, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  /* 3x3 pad 1 */
    {1, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* cnn conv1 */
    {2, 15, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   /* stride 2 */
    {3, 12, 14, 5, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 1},  /* stride (1, 2) */
    {3, 11, 10, 5, 3, 3, 2, 1, 1, 1, 0, 1, 1, 0, 1},  /* stride (2, 1), asymmetric pads */
    {2, 14, 13, 4, 5, 5, 1, 1, 2, 2, 2, 2, 2, 2, 1},  /* dilation 2 */
    {3, 9, 10, 5, 2, 3, 1, 2, 1, 1, 1, 0, 2, 1, 1},   /* 2x3 kernel, pads (1, 0, 2, 1) */
    {4, 9, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},    /* 2 groups */
    {4, 8, 8, 4, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},    /* 1x1 stride 2 (not pointwise) */
    {5, 9, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5},    /* depthwise stride 2 */
    {6, 7, 8, 6, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 6},    /* depthwise 5x5 */
    {40, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* K = 360: two KC blocks; GEMM threads */
    {2, 3, 40, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* rows wider than a panel */
};

static size_t out_size(size_t in, size_t k, size_t s, size_t d, size_t p0, size_t p1) {
  return (in + p0 + p1 - ((k - 1) * d + 1)) / s + 1;
}

/* The spec above, one image. */
static void reference(const conv_case* c, const float* x, const float* w, const float* bias,
                      float* y) {
  const size_t oh = out_size(c->h, c->kh, c->sh, c->dh, c->pt, c->pb);
  const size_t ow = out_size(c->w, c->kw, c->sw, c->dw, c->pl, c->pr);
  const size_t cg = c->cin / c->groups, og = c->cout / c->groups;
  const bool depthwise = c->groups > 1 && cg == 1 && og == 1;
  for (size_t o = 0; o < c->cout; o++)
    for (size_t oy = 0; oy < oh; oy++)
      for (size_t ox = 0; ox < ow; ox++) {
        float acc = 0.0f;
        for (size_t ci = 0; ci < cg; ci++)
          for (size_t ky = 0; ky < c->kh; ky++)
            for (size_t kx = 0; kx < c->kw; kx++) {
              const ptrdiff_t iy = (ptrdiff_t)(oy * c->sh + ky * c->dh) - (ptrdiff_t)c->pt;
              const ptrdiff_t ix = (ptrdiff_t)(ox * c->sw + kx * c->dw) - (ptrdiff_t)c->pl;
              if (iy < 0 || ix < 0 || iy >= (ptrdiff_t)c->h || ix >= (ptrdiff_t)c->w) continue;
              const size_t g = o / og;
              const float xv = x[((g * cg + ci) * c->h + (size_t)iy) * c->w + (size_t)ix];
              const float wv = w[((o * cg + ci) * c->kh + ky) * c->kw + kx];
              if (depthwise) {
                const float prod = wv * xv;
                acc = acc + prod;
              } else {
                acc = fmaf(wv, xv, acc);
              }
            }
        y[(o * oh + oy) * ow + ox] = acc + bias[o];
      }
}

static void add_random(qb_onnx_builder* b, const char* name, int ndim, const size_t* dims) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_F32, ndim, dims, NULL);
  float* v = t.data;
  for (size_t i = 0; i < qb_tensor_numel(&t); i++) v[i] = qb_rand_uniform(-1.0f, 1.0f);
  qb_onnx_builder_initializer(b, name, &t);
  qb_tensor_free(&t);
}

static void check_conv(const conv_case* c) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, (int64_t)c->cin, (int64_t)c->h, (int64_t)c->w});
  const size_t cg = c->cin / c->groups;
  add_random(b, "w", 4, (size_t[]){c->cout, cg, c->kh, c->kw});
  add_random(b, "b", 1, (size_t[]){c->cout});
  qb_onnx_node* n = qb_onnx_builder_node(b, "Conv", "conv", 3, (const char*[]){"x", "w", "b"}, 1,
                                         (const char*[]){"y"});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){(int64_t)c->sh, (int64_t)c->sw});
  qb_onnx_node_attr_ints(n, "dilations", 2, (int64_t[]){(int64_t)c->dh, (int64_t)c->dw});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){(int64_t)c->pt, (int64_t)c->pl, (int64_t)c->pb, (int64_t)c->pr});
  qb_onnx_node_attr_int(n, "group", (int64_t)c->groups);
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, (int64_t)c->cout, -1, -1});
  qb_model m;
  if (qb_test_save_and_load(b, &m)) {
    QB_CHECK(0);
    return;
  }
  const int wi = qb_model_find_value(&m, "w"), bi = qb_model_find_value(&m, "b");
  QB_CHECK(wi >= 0 && bi >= 0);
  if (wi < 0 || bi < 0) return;
  const float *w = m.values[wi].data, *bias = m.values[bi].data;
  const size_t oh = out_size(c->h, c->kh, c->sh, c->dh, c->pt, c->pb);
  const size_t ow = out_size(c->w, c->kw, c->sw, c->dw, c->pl, c->pr);
  const size_t per_in = c->cin * c->h * c->w, per_out = c->cout * oh * ow, batch = 3;
  float* x = malloc(batch * per_in * sizeof *x);
  float* want = malloc(batch * per_out * sizeof *want);
  for (size_t i = 0; i < batch * per_in; i++) x[i] = qb_rand_uniform(-2.0f, 2.0f);
  for (size_t i = 0; i < batch; i++) reference(c, x + i * per_in, w, bias, want + i * per_out);
  const struct { size_t batch, threads; } runs[] = {{3, 1}, {3, 2}, {3, 3}, {1, 2}, {1, 1}};
  qb_error err;
  for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
    const float* xs[1] = {x};
    if (qb_model_set_threads(&m, runs[r].threads, &err) || qb_model_prepare(&m, runs[r].batch, &err) ||
        qb_model_run_f32(&m, xs, NULL, NULL, &err)) {
      QB_CHECK_MSG(0, "run: %s", err.msg);
      break;
    }
    const qb_value* y = qb_model_output(&m, 0);
    size_t bad = 0;
    QB_CHECK(y->numel == runs[r].batch * per_out);
    for (size_t i = 0; i < y->numel && i < runs[r].batch * per_out; i++)
      bad += memcmp(&y->data[i], &want[i], sizeof(float)) != 0;
    QB_CHECK_MSG(bad == 0,
                 "conv %zux%zux%zu -> %zu, %zux%zu s%zux%zu d%zux%zu pads %zu,%zu,%zu,%zu g%zu, "
                 "batch %zu, %zu threads: %zu outputs differ from the spec",
                 c->cin, c->h, c->w, c->cout, c->kh, c->kw, c->sh, c->sw, c->dh, c->dw, c->pt,
                 c->pl, c->pb, c->pr, c->groups, runs[r].batch, runs[r].threads, bad);
  }
  free(x), free(want);
  qb_model_free(&m);
}

/* ------------------------------------------------------------- MaxPool */

static void check_maxpool(size_t h, size_t w) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 2, (int64_t)h, (int64_t)w});
  qb_onnx_node* n = qb_onnx_builder_node(b, "MaxPool", "pool", 1, (const char*[]){"x"}, 1,
                                         (const char*[]){"y"});
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){2, 2});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, 2, -1, -1});
  qb_model m;
  if (qb_test_save_and_load(b, &m)) {
    QB_CHECK(0);
    return;
  }
  const size_t n_in = 2 * h * w, oh = h / 2, ow = w / 2;
  float* x = malloc(n_in * sizeof *x);
  for (size_t i = 0; i < n_in; i++) {
    const uint32_t r = (uint32_t)qb_rand_uniform(0.0f, 16.0f);
    x[i] = r == 0 ? NAN : r == 1 ? -0.0f : r == 2 ? 0.0f : r == 3 ? -INFINITY : qb_rand_uniform(-3.0f, 3.0f);
  }
  qb_error err;
  const float* xs[1] = {x};
  QB_CHECK(qb_model_prepare(&m, 1, &err) == 0 && qb_model_run_f32(&m, xs, NULL, NULL, &err) == 0);
  const qb_value* y = qb_model_output(&m, 0);
  size_t bad = 0;
  for (size_t c = 0; c < 2; c++)
    for (size_t oy = 0; oy < oh; oy++)
      for (size_t ox = 0; ox < ow; ox++) {
        float acc = -INFINITY; /* ONNX order (ky, kx); NaN never wins a comparison */
        for (size_t ky = 0; ky < 2; ky++)
          for (size_t kx = 0; kx < 2; kx++) {
            const float v = x[(c * h + 2 * oy + ky) * w + 2 * ox + kx];
            acc = v > acc ? v : acc;
          }
        bad += memcmp(&acc, &y->data[(c * oh + oy) * ow + ox], sizeof acc) != 0;
      }
  QB_CHECK_MSG(bad == 0, "MaxPool 2x2 s2 on %zux%zu: %zu outputs differ", h, w, bad);
  free(x);
  qb_model_free(&m);
}

/* ----------------------------------------------------------------- Erf */

static void check_erf(void) {
  enum { ROW = 4096, STEP = 4099 }; /* every STEP-th float of [0, 6], both signs */
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, ROW});
  qb_onnx_builder_node(b, "Erf", "erf", 1, (const char*[]){"x"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, ROW});
  qb_model m;
  if (qb_test_save_and_load(b, &m)) {
    QB_CHECK(0);
    return;
  }
  const float special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 4.0f, -4.0f,
                           3.26967f, -3.26967f, 1e-45f};
  const size_t ns = sizeof special / sizeof special[0];
  const uint32_t six = 0x40C00000u; /* bits of 6.0f */
  const size_t rows = (ns + 2 * (six / STEP + 1) + ROW - 1) / ROW, n = rows * ROW;
  float* x = calloc(n, sizeof *x);
  size_t k = 0;
  for (; k < ns; k++) x[k] = special[k];
  for (uint32_t bits = 0; bits <= six; bits += STEP) {
    float v;
    memcpy(&v, &bits, sizeof v);
    x[k++] = v, x[k++] = -v;
  }
  qb_error err;
  const float* xs[1] = {x};
  if (qb_model_prepare(&m, rows, &err) || qb_model_run_f32(&m, xs, NULL, NULL, &err)) {
    QB_CHECK_MSG(0, "Erf: %s", err.msg);
    free(x);
    qb_model_free(&m);
    return;
  }
  const float* y = qb_model_output(&m, 0)->data;
  double worst = 0;
  for (size_t j = 0; j < n; j++)
    if (!isnan(x[j])) {
      const double e = fabs((double)y[j] - erf((double)x[j]));
      worst = e > worst ? e : worst;
    }
  QB_CHECK_MSG(worst <= 4.7e-7, "Erf: max abs error %.3g over %zu inputs (bound 4.7e-7)", worst, k);
  QB_CHECK(y[0] == 0.0f && !signbit(y[0]) && y[1] == 0.0f && signbit(y[1]));
  QB_CHECK(y[2] == 1.0f && y[3] == -1.0f && isnan(y[4]));
  printf("Erf: max abs error %.3g over %zu inputs\n", worst, k);
  free(x);
  qb_model_free(&m);
}

/* ------------------------------------------------------------- Softmax */

static void check_softmax(size_t len) {
  enum { ROWS = 5 };
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, (int64_t)len});
  qb_onnx_builder_node(b, "Softmax", "sm", 1, (const char*[]){"x"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, (int64_t)len});
  qb_model m;
  if (qb_test_save_and_load(b, &m)) {
    QB_CHECK(0);
    return;
  }
  float x[ROWS * 70];
  for (size_t i = 0; i < ROWS * len; i++) x[i] = qb_rand_uniform(-30.0f, 30.0f);
  if (len > 1) x[len + 1] = -INFINITY;    /* row 1: an -inf entry */
  x[3 * len] = NAN;                       /* row 3: NaN */
  for (size_t i = 0; i < len; i++) x[4 * len + i] = qb_rand_uniform(-100.0f, -90.0f); /* row 4 */
  qb_error err;
  const float* xs[1] = {x};
  if (qb_model_prepare(&m, ROWS, &err) || qb_model_run_f32(&m, xs, NULL, NULL, &err)) {
    QB_CHECK_MSG(0, "Softmax: %s", err.msg);
    qb_model_free(&m);
    return;
  }
  const float* y = qb_model_output(&m, 0)->data;
  size_t bad = 0;
  for (size_t r = 0; r < ROWS; r++) {
    if (r == 3) {
      for (size_t i = 0; i < len; i++) bad += !isnan(y[r * len + i]);
      continue;
    }
    /* x - max rounded to float as the op does (that rounding alone moves exp by up
     * to |x - max| * 2^-24 relative: no float softmax avoids it), the rest exact. */
    float mx = -INFINITY;
    double sum = 0;
    for (size_t i = 0; i < len; i++) mx = fmaxf(mx, x[r * len + i]);
    for (size_t i = 0; i < len; i++) sum += exp((double)(x[r * len + i] - mx));
    for (size_t i = 0; i < len; i++) {
      const double want = exp((double)(x[r * len + i] - mx)) / sum;
      bad += !(fabs(y[r * len + i] - want) <= 3e-7 * want + 1e-37);
    }
  }
  QB_CHECK_MSG(bad == 0, "Softmax over %zu: %zu outputs off", len, bad);
  qb_model_free(&m);
}

/* --------------------------------------------------- GlobalAveragePool */

static void check_gap(size_t batch, size_t channels, size_t h, size_t w) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, (int64_t)channels, (int64_t)h, (int64_t)w});
  qb_onnx_builder_node(b, "GlobalAveragePool", "gap", 1, (const char*[]){"x"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, (int64_t)channels, 1, 1});
  qb_model m;
  if (qb_test_save_and_load(b, &m)) {
    QB_CHECK(0);
    return;
  }
  const size_t hw = h * w, n = batch * channels * hw;
  float* x = malloc(n * sizeof *x);
  /* Per plane +2^60, small, -2^60, small, ...: a small value added to +-2^60 is lost
   * (half an ulp of 2^60 in double is 128), one added after the pair cancels is not,
   * so the float mean depends on the order of the sum. */
  for (size_t i = 0; i < n; i++) {
    const size_t j = i % hw;
    x[i] = j % 4 == 0 ? 0x1p60f : j % 4 == 2 ? -0x1p60f : qb_rand_uniform(-100.0f, 100.0f);
  }
  qb_error err;
  const float* xs[1] = {x};
  QB_CHECK(qb_model_prepare(&m, batch, &err) == 0 && qb_model_run_f32(&m, xs, NULL, NULL, &err) == 0);
  const qb_value* y = qb_model_output(&m, 0);
  size_t bad = 0;
  for (size_t c = 0; c < batch * channels; c++) {
    double sum = 0;
    for (size_t j = 0; j < hw; j++) sum += x[c * hw + j];
    const float want = (float)(sum / (double)hw);
    bad += memcmp(&want, &y->data[c], sizeof want) != 0;
  }
  QB_CHECK_MSG(bad == 0, "GlobalAveragePool %zu x %zu x %zux%zu: %zu outputs differ", batch,
               channels, h, w, bad);
  free(x);
  qb_model_free(&m);
}

int main(void) {
  qb_test_seed(0xC0A7u);
  for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) check_conv(&k_cases[i]);
  const size_t pools[][2] = {{28, 28}, {14, 14}, {7, 9}, {2, 2}, {5, 34}, {3, 3}};
  for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) check_maxpool(pools[i][0], pools[i][1]);
  check_erf();
  for (size_t len = 1; len <= 70; len += len < 20 ? 1 : 7) check_softmax(len);
  const size_t gaps[][4] = {{1, 1, 1, 1}, {1, 7, 2, 2}, {1, 8, 4, 4}, {2, 9, 1, 12}, {1, 21, 4, 5}, {2, 16, 2, 4}};
  for (size_t i = 0; i < sizeof gaps / sizeof gaps[0]; i++)
    check_gap(gaps[i][0], gaps[i][1], gaps[i][2], gaps[i][3]);
  return qb_test_finish("test_f32_op_paths");
}
