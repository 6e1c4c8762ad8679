/* Every training operator's backward pass against central finite differences.
 *
 * For an op y = f(x, params) and a fixed random r, L = sum(r * y) has gradient
 * dL/dy = r, so backward(dy = r) must give dL/dx and dL/dparam. Each checked entry
 * is perturbed by +-h and (L+ - L-) / 2h compared with the analytic value (L summed
 * in double). Inputs of kinked ops (ReLU, ReLU6, max pool) are kept further than h
 * from their kinks and ties so the difference quotient is the derivative. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_test.h"
#include "qb_train_ops.h"

#define H 1e-2f
#define TOL 1e-2

/* One op under test: run() does the forward pass into y from the current buffers. */
typedef struct {
  void (*run)(void* op);
  void* op;
  const float* y;
  const float* r;
  size_t ny;
} fd_case;

static double loss_of(const fd_case* c) {
  c->run(c->op);
  double l = 0.0;
  for (size_t i = 0; i < c->ny; i++) l += (double)c->r[i] * (double)c->y[i];
  return l;
}

/* Checks up to 24 entries of `v` (spread over it) against `grad`. */
static void check_grad(const char* what, const fd_case* c, float* v, size_t count,
                       const float* grad) {
  const size_t step = count > 24 ? count / 24 : 1;
  int bad = 0;
  for (size_t i = 0; i < count; i += step) {
    const float keep = v[i];
    v[i] = keep + H;
    const double lp = loss_of(c);
    v[i] = keep - H;
    const double lm = loss_of(c);
    v[i] = keep;
    const double num = (lp - lm) / (2.0 * (double)H);
    if (fabs(num - grad[i]) > TOL * (1.0 + fabs(num)) && bad++ < 3)
      fprintf(stderr, "%s[%zu]: analytic %.6g, numeric %.6g\n", what, i, (double)grad[i], num);
    QB_CHECK(fabs(num - grad[i]) <= TOL * (1.0 + fabs(num)));
  }
  c->run(c->op); /* leave y as the unperturbed forward */
}

static float* randn(size_t count, float scale) {
  float* p = malloc(count * sizeof *p);
  for (size_t i = 0; i < count; i++) p[i] = scale * qb_rand_normal();
  return p;
}

/* Values at least 3h away from each kink in `kinks` (nudged outward). */
static void away_from_kinks(float* p, size_t count, const float* kinks, int nk) {
  for (size_t i = 0; i < count; i++)
    for (int k = 0; k < nk; k++)
      if (fabsf(p[i] - kinks[k]) < 3 * H) p[i] = kinks[k] + (p[i] < kinks[k] ? -3 * H : 3 * H);
}

/* ------------------------------------------------------------------ dense */
typedef struct { size_t n, in, out; float *x, *W, *b, *y; } dense_op;
static void dense_run(void* p) {
  dense_op* o = p;
  qb_train_dense_forward(o->n, o->in, o->out, o->x, o->W, o->b, o->y);
}
static void test_dense(void) {
  dense_op o = {3, 7, 5, randn(21, 1), randn(35, 1), randn(5, 1), calloc(15, 4)};
  float* r = randn(15, 1);
  float *dx = calloc(21, 4), *dW = calloc(35, 4), *db = calloc(5, 4);
  fd_case c = {dense_run, &o, o.y, r, 15};
  dense_run(&o);
  QB_CHECK(qb_train_dense_backward(o.n, o.in, o.out, o.x, o.W, r, dx, dW, db) == 0);
  check_grad("dense dx", &c, o.x, 21, dx);
  check_grad("dense dW", &c, o.W, 35, dW);
  check_grad("dense db", &c, o.b, 5, db);
  free(o.x), free(o.W), free(o.b), free(o.y), free(r), free(dx), free(dW), free(db);
}

/* ------------------------------------------------------------ convolution */
typedef struct { qb_train_conv_shape s; size_t n; float *x, *W, *b, *y; } conv_op;
static void conv_run(void* p) {
  conv_op* o = p;
  qb_train_conv2d_forward(&o->s, o->n, o->x, o->W, o->b, o->y);
}
static void test_conv(const char* what, qb_train_conv_shape s) {
  QB_CHECK(qb_train_conv_shape_init(&s) == 0);
  const size_t n = 2, nx = n * s.cin * s.h * s.w, ny = n * s.cout * s.ho * s.wo;
  const size_t nw = s.cout * (s.cin / s.groups) * s.kh * s.kw;
  conv_op o = {s, n, randn(nx, 1), randn(nw, 0.5f), randn(s.cout, 1), calloc(ny, 4)};
  float* r = randn(ny, 1);
  float *dx = calloc(nx, 4), *dW = calloc(nw, 4), *db = calloc(s.cout, 4);
  fd_case c = {conv_run, &o, o.y, r, ny};
  conv_run(&o);
  QB_CHECK(qb_train_conv2d_backward(&o.s, n, o.x, o.W, r, dx, dW, db) == 0);
  char name[64];
  snprintf(name, sizeof name, "%s dx", what);
  check_grad(name, &c, o.x, nx, dx);
  snprintf(name, sizeof name, "%s dW", what);
  check_grad(name, &c, o.W, nw, dW);
  snprintf(name, sizeof name, "%s db", what);
  check_grad(name, &c, o.b, s.cout, db);
  free(o.x), free(o.W), free(o.b), free(o.y), free(r), free(dx), free(dW), free(db);
}

/* A 3x3 conv (no padding, stride 1) of a known image, value by value. */
static void test_conv_known_values(void) {
  qb_train_conv_shape s = {.cin = 1, .h = 3, .w = 3, .cout = 1, .kh = 2, .kw = 2, .stride = 1,
                       .pad = 0, .groups = 1};
  QB_CHECK(qb_train_conv_shape_init(&s) == 0);
  QB_CHECK(s.ho == 2 && s.wo == 2);
  const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, W[4] = {1, 0, 0, -1}, b[1] = {0.5f};
  float y[4];
  QB_CHECK(qb_train_conv2d_forward(&s, 1, x, W, b, y) == 0);
  for (int i = 0; i < 4; i++) QB_CHECK_EQ_F32(y[i], -3.5f); /* x[i] - x[i+4] + 0.5 */
  s.groups = 2; /* neither 1 nor depthwise with cin == cout == 1... cin is 1: invalid */
  QB_CHECK(qb_train_conv_shape_init(&s) == -1);
}

/* ------------------------------------------------------- elementwise ops */
typedef struct { size_t count; void (*fwd)(size_t, const float*, float*); float *x, *y; } ew_op;
static void ew_run(void* p) {
  ew_op* o = p;
  o->fwd(o->count, o->x, o->y);
}
static void test_elementwise(const char* what, void (*fwd)(size_t, const float*, float*),
                             void (*bwd)(size_t, const float*, const float*, float*),
                             float scale, const float* kinks, int nk) {
  const size_t count = 40;
  ew_op o = {count, fwd, randn(count, scale), calloc(count, 4)};
  away_from_kinks(o.x, count, kinks, nk);
  float *r = randn(count, 1), *dx = calloc(count, 4);
  fd_case c = {ew_run, &o, o.y, r, count};
  ew_run(&o);
  bwd(count, o.x, r, dx);
  check_grad(what, &c, o.x, count, dx);
  free(o.x), free(o.y), free(r), free(dx);
}

/* ---------------------------------------------------------------- pooling */
typedef struct { size_t n, c, h, w; float *x, *y; uint32_t* arg; } pool_op;
static void maxpool_run(void* p) {
  pool_op* o = p;
  qb_train_maxpool2x2_forward(o->n, o->c, o->h, o->w, o->x, o->y, o->arg);
}
static void gap_run(void* p) {
  pool_op* o = p;
  qb_train_gap_forward(o->n, o->c, o->h * o->w, o->x, o->y);
}
static void test_pools(void) {
  /* Odd size 5x5 -> 2x2: the last row and column are dropped (floor). Distinct
   * values 0.1 apart (a shuffled ramp) keep every window's maximum unique. */
  const size_t n = 2, ch = 3, h = 5, w = 5, nx = n * ch * h * w, ny = n * ch * 2 * 2;
  pool_op o = {n, ch, h, w, malloc(nx * 4), calloc(ny, 4), calloc(ny, 4)};
  for (size_t i = 0; i < nx; i++) o.x[i] = 0.1f * (float)i;
  for (size_t i = nx; i > 1; i--) {
    const size_t j = qb_rand_below((uint32_t)i);
    const float t = o.x[i - 1];
    o.x[i - 1] = o.x[j], o.x[j] = t;
  }
  float *r = randn(nx, 1), *dx = calloc(nx, 4);
  fd_case c = {maxpool_run, &o, o.y, r, ny};
  maxpool_run(&o);
  qb_train_maxpool2x2_backward(n, ch, h, w, o.arg, r, dx);
  check_grad("maxpool dx", &c, o.x, nx, dx);
  /* Global average pool over the same input. */
  float* y2 = calloc(n * ch, 4);
  pool_op g = {n, ch, h, w, o.x, y2, NULL};
  fd_case c2 = {gap_run, &g, y2, r, n * ch};
  gap_run(&g);
  qb_train_gap_backward(n, ch, h * w, r, dx);
  check_grad("gap dx", &c2, o.x, nx, dx);
  free(o.x), free(o.y), free(o.arg), free(r), free(dx), free(y2);
}

/* ---------------------------------------------------------- normalization */
typedef struct { size_t n, c, hw; float *x, *g, *b, *y, *xhat, *istd, *rm, *rv; } norm_op;
static void bn_run(void* p) {
  norm_op* o = p;
  qb_train_batchnorm_train_forward(o->n, o->c, o->hw, o->x, o->g, o->b, 1e-5f, 0.1f, o->rm, o->rv,
                             o->y, o->xhat, o->istd);
}
static void ln_run(void* p) {
  norm_op* o = p;
  qb_train_layernorm_forward(o->n, o->c, o->x, o->g, o->b, 1e-5f, o->y, o->xhat, o->istd);
}
static void test_batchnorm(void) {
  const size_t n = 3, ch = 4, hw = 5, nx = n * ch * hw;
  norm_op o = {n, ch, hw, randn(nx, 2), randn(ch, 1), randn(ch, 1), calloc(nx, 4),
               calloc(nx, 4), calloc(ch, 4), calloc(ch, 4), calloc(ch, 4)};
  float *r = randn(nx, 1), *dx = calloc(nx, 4), *dg = calloc(ch, 4), *db = calloc(ch, 4);
  fd_case c = {bn_run, &o, o.y, r, nx};
  bn_run(&o);
  qb_train_batchnorm_backward(n, ch, hw, o.g, o.xhat, o.istd, r, dx, dg, db);
  check_grad("batchnorm dx", &c, o.x, nx, dx);
  check_grad("batchnorm dgamma", &c, o.g, ch, dg);
  check_grad("batchnorm dbeta", &c, o.b, ch, db);
  /* Normalized output: per channel mean 0 and variance 1 before gamma/beta. */
  double mean = 0, var = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t p = 0; p < hw; p++) mean += o.xhat[(i * ch + 1) * hw + p];
  for (size_t i = 0; i < n; i++)
    for (size_t p = 0; p < hw; p++) var += pow(o.xhat[(i * ch + 1) * hw + p], 2);
  QB_CHECK(fabs(mean / (n * hw)) < 1e-5 && fabs(var / (n * hw) - 1) < 1e-3);
  free(o.x), free(o.g), free(o.b), free(o.y), free(o.xhat), free(o.istd), free(o.rm),
      free(o.rv), free(r), free(dx), free(dg), free(db);
}
static void test_layernorm(void) {
  const size_t rows = 4, d = 6, nx = rows * d;
  norm_op o = {rows, d, 1, randn(nx, 2), randn(d, 1), randn(d, 1), calloc(nx, 4),
               calloc(nx, 4), calloc(rows, 4), NULL, NULL};
  float *r = randn(nx, 1), *dx = calloc(nx, 4), *dg = calloc(d, 4), *db = calloc(d, 4);
  fd_case c = {ln_run, &o, o.y, r, nx};
  ln_run(&o);
  qb_train_layernorm_backward(rows, d, o.g, o.xhat, o.istd, r, dx, dg, db);
  check_grad("layernorm dx", &c, o.x, nx, dx);
  check_grad("layernorm dgamma", &c, o.g, d, dg);
  check_grad("layernorm dbeta", &c, o.b, d, db);
  free(o.x), free(o.g), free(o.b), free(o.y), free(o.xhat), free(o.istd), free(r), free(dx),
      free(dg), free(db);
}

/* ------------------------------------------------- softmax and attention */
typedef struct { size_t rows, d; float *x, *y; } sm_op;
static void sm_run(void* p) {
  sm_op* o = p;
  qb_train_softmax_forward(o->rows, o->d, o->x, o->y);
}
static void test_softmax(void) {
  sm_op o = {3, 7, randn(21, 2), calloc(21, 4)};
  float *r = randn(21, 1), *dx = calloc(21, 4);
  fd_case c = {sm_run, &o, o.y, r, 21};
  sm_run(&o);
  qb_train_softmax_backward(3, 7, o.y, r, dx);
  check_grad("softmax dx", &c, o.x, 21, dx);
  free(o.x), free(o.y), free(r), free(dx);
}

typedef struct { size_t n, t, d, heads; float *q, *k, *v, *o, *p; } attn_op;
static void attn_run(void* p) {
  attn_op* a = p;
  qb_train_attention_forward(a->n, a->t, a->d, a->heads, a->q, a->k, a->v, a->o, a->p);
}
static void test_attention(void) {
  const size_t n = 2, t = 5, d = 6, heads = 2, nx = n * t * d;
  attn_op a = {n, t, d, heads, randn(nx, 1), randn(nx, 1), randn(nx, 1), calloc(nx, 4),
               calloc(n * heads * t * t, 4)};
  float *r = randn(nx, 1), *dq = calloc(nx, 4), *dk = calloc(nx, 4), *dv = calloc(nx, 4);
  fd_case c = {attn_run, &a, a.o, r, nx};
  attn_run(&a);
  QB_CHECK(qb_train_attention_backward(n, t, d, heads, a.q, a.k, a.v, a.p, r, dq, dk, dv) == 0);
  check_grad("attention dq", &c, a.q, nx, dq);
  check_grad("attention dk", &c, a.k, nx, dk);
  check_grad("attention dv", &c, a.v, nx, dv);
  free(a.q), free(a.k), free(a.v), free(a.o), free(a.p), free(r), free(dq), free(dk), free(dv);
}

/* Cross-entropy: the loss itself is the scalar (r is a single 1). */
typedef struct { size_t n, classes; float *logits, loss; const uint8_t* labels; } xent_op;
static void xent_run(void* p) {
  xent_op* o = p;
  o->loss = qb_train_softmax_xent(o->n, o->classes, o->logits, o->labels, NULL);
}
static void test_xent(void) {
  const uint8_t labels[4] = {0, 3, 9, 3};
  xent_op o = {4, 10, randn(40, 2), 0, labels};
  float one = 1.0f, *dl = calloc(40, 4);
  fd_case c = {xent_run, &o, &o.loss, &one, 1};
  o.loss = qb_train_softmax_xent(4, 10, o.logits, labels, dl);
  check_grad("xent dlogits", &c, o.logits, 40, dl);
  /* Uniform logits: loss = ln 10 exactly up to rounding. */
  float flat[10] = {0};
  QB_CHECK(fabsf(qb_train_softmax_xent(1, 10, flat, labels, NULL) - logf(10.0f)) < 1e-6f);
  free(o.logits), free(dl);
}

int main(void) {
  qb_test_seed(20261201);
  test_dense();
  test_conv("conv3x3 s1 p1", (qb_train_conv_shape){.cin = 2, .h = 6, .w = 5, .cout = 3, .kh = 3,
                                              .kw = 3, .stride = 1, .pad = 1, .groups = 1});
  test_conv("conv3x3 s2 p1", (qb_train_conv_shape){.cin = 3, .h = 7, .w = 7, .cout = 4, .kh = 3,
                                              .kw = 3, .stride = 2, .pad = 1, .groups = 1});
  test_conv("conv1x1", (qb_train_conv_shape){.cin = 4, .h = 3, .w = 3, .cout = 5, .kh = 1, .kw = 1,
                                         .stride = 1, .pad = 0, .groups = 1});
  test_conv("depthwise s1 p1", (qb_train_conv_shape){.cin = 3, .h = 5, .w = 6, .cout = 3, .kh = 3,
                                                .kw = 3, .stride = 1, .pad = 1, .groups = 3});
  test_conv("depthwise s2 p1", (qb_train_conv_shape){.cin = 4, .h = 7, .w = 7, .cout = 4, .kh = 3,
                                                .kw = 3, .stride = 2, .pad = 1, .groups = 4});
  test_conv_known_values();
  const float relu_kinks[1] = {0}, relu6_kinks[2] = {0, 6};
  test_elementwise("relu dx", qb_train_relu_forward, qb_train_relu_backward, 1, relu_kinks, 1);
  test_elementwise("relu6 dx", qb_train_relu6_forward, qb_train_relu6_backward, 4, relu6_kinks, 2);
  test_elementwise("gelu dx", qb_train_gelu_forward, qb_train_gelu_backward, 2, NULL, 0);
  test_pools();
  test_batchnorm();
  test_layernorm();
  test_softmax();
  test_attention();
  test_xent();
  return qb_test_finish("test_train_ops_grad");
}
