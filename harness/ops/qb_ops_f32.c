/* The fp32 compute path of Gemm / MatMul / Conv: packed-B microkernels from the
 * dispatch table, constant weights packed once, threads. See qb_ops_f32.h.
 *
 * Numerics. The GEMM is the reference's fmaf chain per element (kernels/f32-gemm):
 * the same bits on every backend, for any thread count and any batch. Depthwise
 * convolution (kernels/f32-dwconv) is a multiply then an add per tap, taps in
 * (ky, kx) order, padded taps skipped: the order of the naive im2col + GEMM it
 * replaces. */
#include "qb_ops_f32.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "f32-gemm/qb_f32_gemm.h"
#include "qb_multiversion.h"

static size_t at_least1(size_t n) { return n ? n : 1; }

void qb_f32_runtime_free(qb_model* m) {
  struct qb_f32_runtime* r = m->f32;
  if (!r) return;
  for (size_t k = 0; k < r->nnodes; k++) qb_f32_packed_b_free(&r->packed[k]);
  free(r->packed), free(r->packed_src), free(r->scratch), free(r->conv_scratch);
  qb_thread_pool_destroy(r->pool);
  free(r);
  m->f32 = NULL;
}

/* One conv scratch per thread (images of a batch run on different threads). */
static int conv_scratch_ensure(struct qb_f32_runtime* r, size_t floats, qb_error* err) {
  if (floats <= r->conv_floats && r->threads <= r->conv_threads) return 0;
  free(r->conv_scratch);
  r->conv_scratch = NULL, r->conv_floats = r->conv_threads = 0;
  if (!floats) return 0;
  const size_t bytes = floats * r->threads * sizeof(float);
  if (!(r->conv_scratch = aligned_alloc(64, bytes)))
    return qb_fail(err, "out of memory allocating %zu bytes of fp32 conv scratch", bytes);
  r->conv_floats = floats, r->conv_threads = r->threads;
  return 0;
}

static int runtime_get(qb_model* m, qb_error* err) {
  if (m->f32 && m->f32->nnodes == m->nnodes) return 0;
  struct qb_f32_runtime* r = m->f32;
  if (!r && !(r = calloc(1, sizeof *r))) return qb_fail(err, "out of memory");
  m->f32 = r;
  if (!r->threads) r->threads = 1;
  for (size_t k = 0; k < r->nnodes; k++) qb_f32_packed_b_free(&r->packed[k]);
  free(r->packed), free(r->packed_src);
  r->nnodes = m->nnodes;
  r->packed = calloc(at_least1(m->nnodes), sizeof *r->packed);
  r->packed_src = calloc(at_least1(m->nnodes), sizeof *r->packed_src);
  if (!r->packed || !r->packed_src) {
    r->nnodes = 0;
    return qb_fail(err, "out of memory");
  }
  r->entry = qb_dispatch_best()->f32_gemm;
  return 0;
}

int qb_model_set_threads(qb_model* m, size_t threads, qb_error* err) {
  if (threads < 1 || threads > QB_THREAD_POOL_MAX)
    return qb_fail(err, "threads: %zu is outside 1..%d", threads, QB_THREAD_POOL_MAX);
  if (runtime_get(m, err)) return -1;
  struct qb_f32_runtime* r = m->f32;
  if (threads == r->threads) return 0;
  qb_thread_pool* pool = NULL;
  if (threads > 1 && !(pool = qb_thread_pool_create(threads, false, err))) return -1;
  qb_thread_pool_destroy(r->pool);
  r->pool = pool, r->threads = threads;
  return conv_scratch_ensure(r, r->conv_need, err);
}

size_t qb_model_threads(const qb_model* m) { return m->f32 ? m->f32->threads : 1; }

const char* qb_model_f32_gemm_name(void) { return qb_dispatch_best()->f32_gemm->info.name; }

static bool is_depthwise(const qb_conv2d_shape* s) {
  return s->groups > 1 && s->in_channels == s->groups && s->out_channels == s->groups;
}

const char* qb_model_node_f32_kernel(const qb_model* m, size_t k) {
  const qb_node* n = &m->nodes[k];
  if (n->op == QB_OP_CONV && m->prepared) {
    qb_conv2d_shape s;
    qb_node_conv_shape(m, n, &s);
    if (is_depthwise(&s)) return qb_dispatch_best()->f32_dwconv2d->info.name;
  }
  return n->op == QB_OP_GEMM || n->op == QB_OP_MATMUL || n->op == QB_OP_CONV
             ? qb_model_f32_gemm_name()
             : NULL;
}

/* The B operand of a Gemm / MatMul node as the GEMM sees it: K x N, strides. */
typedef struct {
  size_t K, N, sb_k, sb_j;
  bool two_d; /* MatMul: B has no batch dimension (one matrix for every batch) */
} b_view;

static b_view b_of(const qb_model* m, const qb_node* n) {
  const qb_value* b = qb_in(m, n, 1);
  b_view v = {0};
  if (n->op == QB_OP_GEMM) {
    v.K = n->a.trans_b ? b->dims[1] : b->dims[0], v.N = n->a.trans_b ? b->dims[0] : b->dims[1];
    v.sb_k = n->a.trans_b ? 1 : b->dims[1], v.sb_j = n->a.trans_b ? b->dims[1] : 1;
    v.two_d = true;
    return v;
  }
  v.K = b->ndim == 1 ? b->dims[0] : b->dims[b->ndim - 2];
  v.N = b->ndim == 1 ? 1 : b->dims[b->ndim - 1];
  v.sb_k = v.N, v.sb_j = 1;
  v.two_d = b->ndim <= 2;
  return v;
}

static size_t conv_thread_floats(const qb_conv2d_shape* s, const qb_f32_gemm_entry* e);

static size_t conv_scratch(const qb_model* m, const qb_node* n, const qb_f32_gemm_entry* e) {
  qb_conv2d_shape s;
  qb_node_conv_shape(m, n, &s);
  return is_depthwise(&s) ? 0 : conv_thread_floats(&s, e);
}


int qb_f32_runtime_prepare(qb_model* m, qb_error* err) {
  if (runtime_get(m, err)) return -1;
  struct qb_f32_runtime* r = m->f32;
  size_t scratch = 16, conv = 0;
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    if (n->op == QB_OP_CONV) {
      const size_t f = conv_scratch(m, n, r->entry);
      conv = f > conv ? f : conv;
    }
    if (n->op != QB_OP_GEMM && n->op != QB_OP_MATMUL) continue;
    const b_view v = b_of(m, n);
    const size_t f = qb_f32_gemm_scratch_floats(r->entry, v.N, v.K);
    scratch = f > scratch ? f : scratch;
    const qb_value* b = qb_in(m, n, 1);
    const bool constant = b->kind == QB_VALUE_CONST && b->data && v.two_d;
    qb_f32_packed_b* p = &r->packed[k];
    if (!constant || (r->packed_src[k] == b->data && p->N == v.N && p->K == v.K)) continue;
    qb_f32_packed_b_free(p);
    r->packed_src[k] = NULL;
    if (qb_f32_packed_b_make(r->entry, v.N, v.K, b->data, v.sb_k, v.sb_j, p, err)) return -1;
    r->packed_src[k] = b->data;
  }
  if (scratch > r->scratch_floats) {
    free(r->scratch);
    r->scratch_floats = 0;
    if (!(r->scratch = aligned_alloc(64, scratch * sizeof(float))))
      return qb_fail(err, "out of memory allocating %zu bytes of fp32 GEMM scratch",
                     scratch * sizeof(float));
    r->scratch_floats = scratch;
  }
  r->conv_need = conv;
  return conv_scratch_ensure(r, conv, err);
}

void qb_f32_node_gemm(const qb_model* m, size_t k, size_t M, size_t N, size_t K, const float* A,
                      size_t sa_i, size_t sa_k, const float* B, size_t sb_k, size_t sb_j, float* C,
                      size_t ldc) {
  const struct qb_f32_runtime* r = m->f32;
  const qb_f32_gemm_entry* e = r->entry;
  const float* packed = NULL;
  qb_f32_packed_b* hint = r->hint_pack && r->hint_node == k && r->hint_src == B ? r->hint_pack : NULL;
  if (hint && sa_k == 1) {
    if (hint->packed && (hint->entry != e || hint->N != N || hint->K != K)) qb_f32_packed_b_free(hint);
    /* Out of memory leaves it unpacked: the scratch path below gives the same bits. */
    if (!hint->packed) (void)qb_f32_packed_b_make(e, N, K, B, sb_k, sb_j, hint, NULL);
    packed = hint->packed;
  }
  if (!packed && r->packed[k].packed && r->packed_src[k] == B && r->packed[k].N == N &&
      r->packed[k].K == K)
    packed = r->packed[k].packed;
  else if (!packed && sa_k == 1 && qb_f32_gemm_scratch_floats(e, N, K) <= r->scratch_floats) {
    qb_f32_gemm_pack_threaded(e, r->pool, N, K, B, sb_k, sb_j, r->scratch);
    packed = r->scratch;
  }
  if (!packed || sa_k != 1) {
    qb_f32_gemm__scalar(M, N, K, A, sa_i, sa_k, B, sb_k, sb_j, C, ldc);
    return;
  }
  qb_f32_gemm_threaded_run(e, r->pool, M, N, K, A, sa_i, packed, C, ldc);
}

void qb_f32_hint_packed_b(const qb_model* m, size_t k, const float* src, qb_f32_packed_b* pack) {
  struct qb_f32_runtime* r = m->f32;
  if (!r) return;
  r->hint_node = k, r->hint_src = src, r->hint_pack = pack;
}

void qb_f32_hint_clear(const qb_model* m) {
  if (m->f32) m->f32->hint_pack = NULL, m->f32->hint_src = NULL;
}

/* ---------------------------------------------- bias + fused activation */

/* The bias add and the activation of one output run, d[t] = act(s[t] + b): one loop
 * per case (no per-element branch on the case), each simple enough to vectorize;
 * QB_MULTIVERSION clones (same operations, same bits) give them AVX2 where there is
 * some. In place, or while compacting virtual columns; one call per node (a call per
 * channel or per row of a small plane cost more than its work: dwnet's last planes
 * are 4x4). The add is skipped without a bias (x + 0 would turn -0 into +0). */
enum { EPI_BIAS = 1, EPI_RELU = 2, EPI_CLIP = 4 };

static int epi_case(const float* bias, const qb_f32_act* act) {
  return (bias ? EPI_BIAS : 0) | (!act ? 0 : act->op == QB_OP_RELU ? EPI_RELU : EPI_CLIP);
}

#define QB_EPI_LOOPS(D, S)                                                            \
  switch (c) {                                                                        \
    case EPI_BIAS: for (size_t t = 0; t < n; t++) D[t] = S[t] + b; break;             \
    case EPI_RELU: for (size_t t = 0; t < n; t++) D[t] = qb_f32_relu(S[t]); break;    \
    case EPI_RELU | EPI_BIAS:                                                         \
      for (size_t t = 0; t < n; t++) D[t] = qb_f32_relu(S[t] + b);                    \
      break;                                                                          \
    case EPI_CLIP: for (size_t t = 0; t < n; t++) D[t] = qb_f32_clip(S[t], lo, hi); break; \
    case EPI_CLIP | EPI_BIAS:                                                         \
      for (size_t t = 0; t < n; t++) D[t] = qb_f32_clip(S[t] + b, lo, hi);            \
      break;                                                                          \
    default: break;                                                                   \
  }

/* `planes` runs of n outputs, in place, plane o with bias[o] (bias NULL: none). */
QB_MULTIVERSION static void epi_inplace(float* y, size_t planes, size_t n, int c,
                                        const float* bias, float lo, float hi) {
  for (size_t o = 0; o < planes; o++, y += n) {
    const float b = bias ? bias[o] : 0.0f;
    QB_EPI_LOOPS(y, y)
  }
}

/* Compaction: `planes` channels of `rows` rows of n outputs, rows rs and channels sp
 * apart in s, packed in d. */
QB_MULTIVERSION static void epi_compact(float* restrict d, const float* restrict s,
                                        size_t planes, size_t rows, size_t n, size_t rs,
                                        size_t sp, int c, const float* bias, float lo,
                                        float hi) {
  for (size_t o = 0; o < planes; o++) {
    const float b = bias ? bias[o] : 0.0f;
    const float* src = s + o * sp;
    for (size_t r = 0; r < rows; r++, src += rs, d += n) {
      if (!c) memcpy(d, src, n * sizeof *d);
      QB_EPI_LOOPS(d, src)
    }
  }
}

void qb_f32_epilogue(float* y, size_t planes, size_t n, const float* bias,
                     const qb_f32_act* act) {
  const int c = epi_case(bias, act);
  if (c) epi_inplace(y, planes, n, c, bias, act ? act->lo : 0.0f, act ? act->hi : 0.0f);
}

/* ------------------------------------------------------------ convolution */

/* im2col without bounds tests. The group's input channels are first copied into
 * zero-padded planes (padding included: ph x pw), each split into sw column phases
 * (phase q holds padded columns q, q + sw, ...; pws = ceil(pw / sw) wide), so that
 * for tap (ky, kx) the input of output (y, x) is
 *   phase[(kx*dw) % sw][(y*sh + ky*dh)*pws + x + (kx*dw)/sw]
 * and a whole output row is one contiguous run of ow floats. With stride_h 1 the
 * GEMM's columns are "virtual" positions q = y*pws + x over the padded width: then
 * a tap's row of B is ONE run of (oh-1)*pws + ow floats (the columns x >= ow are
 * computed and dropped when the output is compacted). With stride_h > 1 the
 * columns are the positions y*ow + x themselves, one run per output row. Runs are
 * copied into the GEMM's NR-wide panels; padding reads the zeros of the planes,
 * which add +-0 to each chain: the bits of skipping them (an fma chain that starts
 * at +0 never becomes -0 by adding a zero product). */
typedef struct {
  size_t oh, ow, ph, pw, pws, rs; /* rs: virtual row stride of the GEMM's columns */
  size_t cg, og, K, N;            /* N: GEMM columns ((oh-1)*rs + ow) */
  size_t plane;                   /* floats of one channel's phases (sw*ph*pws) */
} conv_geom;

static conv_geom conv_geom_of(const qb_conv2d_shape* s) {
  conv_geom g;
  g.oh = qb_conv2d_out_h(s), g.ow = qb_conv2d_out_w(s);
  g.ph = s->in_h + s->pad_top + s->pad_bottom, g.pw = s->in_w + s->pad_left + s->pad_right;
  g.pws = (g.pw + s->stride_w - 1) / s->stride_w;
  g.rs = s->stride_h == 1 ? g.pws : g.ow;
  g.cg = s->in_channels / s->groups, g.og = s->out_channels / s->groups;
  g.K = g.cg * s->kernel_h * s->kernel_w;
  g.N = (g.oh - 1) * g.rs + g.ow;
  g.plane = s->stride_w * g.ph * g.pws;
  return g;
}

static bool is_pointwise(const qb_conv2d_shape* s) {
  return s->kernel_h == 1 && s->kernel_w == 1 && s->stride_h == 1 && s->stride_w == 1 &&
         !s->pad_top && !s->pad_left && !s->pad_bottom && !s->pad_right;
}

/* Scratch floats of one thread for a (non-depthwise) Conv: the padded planes, the
 * packed B, the GEMM's output over virtual columns; each part rounded to 16
 * floats (64 bytes). */
static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

static size_t conv_thread_floats(const qb_conv2d_shape* s, const qb_f32_gemm_entry* e) {
  const conv_geom g = conv_geom_of(s);
  if (is_pointwise(s)) return qb_f32_gemm_scratch_floats(e, g.N, g.K);
  return round16(g.cg * g.plane) + qb_f32_gemm_scratch_floats(e, g.N, g.K) + round16(g.og * g.N);
}

static void pad_planes(const qb_conv2d_shape* s, const conv_geom* g, const float* x, float* planes) {
  const size_t sw = s->stride_w;
  memset(planes, 0, g->cg * g->plane * sizeof *planes);
  for (size_t c = 0; c < g->cg; c++) {
    const float* src = x + c * s->in_h * s->in_w;
    float* ph = planes + c * g->plane;
    for (size_t iy = 0; iy < s->in_h; iy++, src += s->in_w) {
      float* row = ph + (iy + s->pad_top) * g->pws;
      if (sw == 1) {
        memcpy(row + s->pad_left, src, s->in_w * sizeof *row);
        continue;
      }
      /* Padded column pad_left + ix is phase (pad_left + ix) % sw, index / sw. */
      size_t q = s->pad_left % sw, j = s->pad_left / sw;
      for (size_t ix = 0; ix < s->in_w; ix++) {
        row[q * g->ph * g->pws + j] = src[ix];
        if (++q == sw) q = 0, j++;
      }
    }
  }
}

/* One whole panel row: a constant-size copy for the usual widths (a few vector
 * moves instead of a loop). */
static inline void copy_panel_row(float* dst, const float* src, size_t nr) {
  if (nr == 16) memcpy(dst, src, 16 * sizeof *dst);
  else if (nr == 8) memcpy(dst, src, 8 * sizeof *dst);
  else memcpy(dst, src, nr * sizeof *dst);
}

/* Copies src[0..len) to GEMM columns [q, q + len) of row k of the packed B. */
static void to_panels(const float* src, size_t len, size_t q, size_t k, size_t K, size_t nr,
                      float* packed) {
  const size_t o = q % nr;
  float* dst = packed + (q / nr * K + k) * nr + o;
  if (o) {
    const size_t n = nr - o < len ? nr - o : len;
    memcpy(dst, src, n * sizeof *dst);
    src += n, len -= n, dst += K * nr - o;
  }
  for (; len >= nr; src += nr, len -= nr, dst += K * nr) copy_panel_row(dst, src, nr);
  if (len) memcpy(dst, src, len * sizeof *dst);
}

static void im2col_panels(const qb_conv2d_shape* s, const conv_geom* g, const float* planes,
                          size_t nr, float* packed) {
  size_t k = 0;
  for (size_t c = 0; c < g->cg; c++)
    for (size_t ky = 0; ky < s->kernel_h; ky++)
      for (size_t kx = 0; kx < s->kernel_w; kx++, k++) {
        const size_t cx = kx * s->dilation_w;
        const float* src = planes + c * g->plane + (cx % s->stride_w) * g->ph * g->pws +
                           ky * s->dilation_h * g->pws + cx / s->stride_w;
        if (s->stride_h == 1) to_panels(src, g->N, 0, k, g->K, nr, packed);
        else
          for (size_t y = 0; y < g->oh; y++)
            to_panels(src + y * s->stride_h * g->pws, g->ow, y * g->ow, k, g->K, nr, packed);
      }
  /* Columns past N in the last panel: zeros (the microkernel masks them, but they
   * must not be uninitialized floats). */
  const size_t tail = g->N % nr;
  if (tail)
    for (size_t kk = 0; kk < g->K; kk++)
      memset(packed + ((g->N / nr) * g->K + kk) * nr + tail, 0, (nr - tail) * sizeof *packed);
}

void qb_f32_conv_image(const qb_model* m, const qb_conv2d_shape* s, const float* image,
                       const float* w, const float* bias, const qb_f32_act* act, float* out,
                       qb_thread_pool* pool, float* scratch) {
  const qb_f32_gemm_entry* e = m->f32->entry;
  const conv_geom g = conv_geom_of(s);
  const size_t P = g.oh * g.ow;
  const bool pointwise = is_pointwise(s);
  float* planes = scratch;
  float* packed = pointwise ? scratch : scratch + round16(g.cg * g.plane);
  float* cv = packed + qb_f32_gemm_scratch_floats(e, g.N, g.K);
  for (size_t gr = 0; gr < s->groups; gr++) {
    const float* x = image + gr * g.cg * s->in_h * s->in_w;
    const float* wg = w + gr * g.og * g.K;
    const float* bg = bias ? bias + gr * g.og : NULL;
    float* y = out + gr * g.og * P;
    if (pointwise) {
      /* The image's channel planes are B (K = channels, N = positions) as they are. */
      qb_f32_gemm_pack_threaded(e, pool, P, g.K, x, P, 1, packed);
    } else {
      pad_planes(s, &g, x, planes);
      im2col_panels(s, &g, planes, e->info.nr, packed);
    }
    const bool virtual_cols = g.N != P;
    qb_f32_gemm_threaded_run(e, pool, g.og, g.N, g.K, wg, g.K, packed, virtual_cols ? cv : y,
                             virtual_cols ? g.N : P);
    if (!virtual_cols) {
      /* The output is in place: bias and activation over each channel's plane as one
       * run (the plane is still in cache from the GEMM's store). */
      qb_f32_epilogue(y, g.og, P, bg, act);
      continue;
    }
    /* Compaction of the virtual columns, the bias and the activation, in one pass. */
    epi_compact(y, cv, g.og, g.oh, g.ow, g.rs, g.N, epi_case(bg, act), bg,
                act ? act->lo : 0.0f, act ? act->hi : 0.0f);
  }
}

typedef struct {
  const qb_f32_dwconv2d_entry* e;
  const qb_conv2d_shape* s;
  const float *image, *w;
  float* out;
  size_t tasks;
} dw_job;

static void dw_task(void* ctx, size_t t, size_t thread) {
  const dw_job* j = ctx;
  (void)thread;
  const size_t C = j->s->out_channels;
  j->e->run(j->s, t * C / j->tasks, (t + 1) * C / j->tasks, j->image, j->w, j->out);
}

void qb_f32_dwconv(const qb_conv2d_shape* s, const float* image, const float* w, float* out,
                   qb_thread_pool* pool) {
  const size_t P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  const size_t T = qb_f32_gemm_threads_for(pool, s->out_channels * P * s->kernel_h * s->kernel_w * 8);
  dw_job j = {qb_dispatch_best()->f32_dwconv2d, s, image, w, out, T};
  if (T == 1) dw_task(&j, 0, 0);
  else qb_thread_pool_run(pool, T, dw_task, &j);
}

/* ---------------------------------------------------------- Conv, batch */

typedef struct {
  const qb_model* m;
  const qb_conv2d_shape* s;
  const float *x, *w, *bias;
  const qb_f32_act* act; /* fused Relu / Clip, NULL: none */
  float* y;
  size_t tasks;
  qb_thread_pool* pool; /* of each image's GEMM / depthwise: NULL when images are split */
} conv_job;

static void conv_one(const conv_job* j, size_t b, float* scratch) {
  const qb_conv2d_shape* s = j->s;
  const size_t P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  const float* image = j->x + b * s->in_channels * s->in_h * s->in_w;
  float* out = j->y + b * s->out_channels * P;
  if (!is_depthwise(s)) {
    qb_f32_conv_image(j->m, s, image, j->w, j->bias, j->act, out, j->pool, scratch);
    return;
  }
  qb_f32_dwconv(s, image, j->w, out, j->pool);
  qb_f32_epilogue(out, s->out_channels, P, j->bias, j->act);
}

static void conv_task(void* ctx, size_t t, size_t thread) {
  const conv_job* j = ctx;
  const struct qb_f32_runtime* r = j->m->f32;
  float* scratch = r->conv_scratch + thread * r->conv_floats;
  const size_t B = j->s->batch;
  for (size_t b = t * B / j->tasks; b < (t + 1) * B / j->tasks; b++) conv_one(j, b, scratch);
}

void qb_f32_conv(const qb_model* m, const qb_conv2d_shape* s, const float* x, const float* w,
                 const float* bias, const qb_f32_act* act, float* y) {
  const struct qb_f32_runtime* r = m->f32;
  const size_t P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  const size_t work = s->batch * s->out_channels * P * (s->in_channels / s->groups) *
                      s->kernel_h * s->kernel_w;
  /* Images over threads when there are at least as many as threads: one fork-join
   * per layer instead of one per GEMM. Each image's result does not depend on who
   * computes it, so the bits are those of any other split. */
  const size_t T = s->batch >= r->threads ? qb_f32_gemm_threads_for(r->pool, work) : 1;
  conv_job j = {m, s, x, w, bias, act, y, T, T > 1 ? NULL : r->pool};
  if (T == 1) conv_task(&j, 0, 0);
  else qb_thread_pool_run(r->pool, T, conv_task, &j);
}
