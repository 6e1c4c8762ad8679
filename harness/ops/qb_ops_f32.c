/* The fp32 compute path of Gemm / MatMul / Conv: packed-B microkernels from the
 * dispatch table, constant weights packed once, threads. See qb_ops_f32.h.
 *
 * Numerics. The GEMM is the reference's fmaf chain per element (kernels/f32-gemm):
 * the same bits on every backend, for any thread count and any batch. Depthwise
 * convolution (kernels/f32-dwconv) is a multiply then an add per tap, taps in
 * (ky, kx) order, padded taps skipped: the order of the naive im2col + GEMM it
 * replaces. */
#include "qb_ops_f32.h"

#include <stdlib.h>
#include <string.h>

#include "f32-gemm/qb_f32_gemm.h"

static size_t at_least1(size_t n) { return n ? n : 1; }

void qb_f32_runtime_free(qb_model* m) {
  struct qb_f32_runtime* r = m->f32;
  if (!r) return;
  for (size_t k = 0; k < r->nnodes; k++) qb_f32_packed_b_free(&r->packed[k]);
  free(r->packed), free(r->packed_src), free(r->scratch);
  qb_thread_pool_destroy(r->pool);
  free(r);
  m->f32 = NULL;
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
  return 0;
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

static size_t conv_scratch(const qb_model* m, const qb_node* n, const qb_f32_gemm_entry* e) {
  qb_conv2d_shape s;
  qb_node_conv_shape(m, n, &s);
  if (is_depthwise(&s)) return 0;
  const size_t P = qb_conv2d_out_h(&s) * qb_conv2d_out_w(&s);
  return qb_f32_gemm_scratch_floats(e, P, s.in_channels / s.groups * s.kernel_h * s.kernel_w);
}

int qb_f32_runtime_prepare(qb_model* m, qb_error* err) {
  if (runtime_get(m, err)) return -1;
  struct qb_f32_runtime* r = m->f32;
  size_t scratch = 16;
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    if (n->op == QB_OP_CONV) {
      const size_t f = conv_scratch(m, n, r->entry);
      scratch = f > scratch ? f : scratch;
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
  return 0;
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

/* ------------------------------------------------------------ convolution */

typedef struct {
  const qb_conv2d_shape* s;
  const float* image;
  size_t group, K, P, nr, tasks;
  float* packed;
} im2col_job;

static ptrdiff_t clamp_pd(ptrdiff_t v, ptrdiff_t lo, ptrdiff_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* len output columns from x of one input row at column offset off, stride 1: input
 * columns x + off .. x + off + len - 1, the ones outside [0, in_w) are padding. One
 * branch-free copy the compiler vectorizes, instead of a bounds test per element. */
static void im2col_run_stride1(const float* row, size_t in_w, size_t x, ptrdiff_t off, size_t len,
                               float* dst) {
  const ptrdiff_t t0 = clamp_pd(-off - (ptrdiff_t)x, 0, (ptrdiff_t)len);
  const ptrdiff_t t1 = clamp_pd((ptrdiff_t)in_w - off - (ptrdiff_t)x, t0, (ptrdiff_t)len);
  for (ptrdiff_t t = 0; t < t0; t++) dst[t] = 0.0f;
  const float* src = row + (ptrdiff_t)x + off;
  for (ptrdiff_t t = t0; t < t1; t++) dst[t] = src[t];
  for (ptrdiff_t t = t1; t < (ptrdiff_t)len; t++) dst[t] = 0.0f;
}

/* One panel row: n positions of output row-major order (ow per output row) from
 * output row y0, column x0; tap (c, ky, kx), into dst[0..nr) (zeros past n and in
 * the padding). */
static void im2col_row(const qb_conv2d_shape* s, size_t ow, const float* plane, size_t ky,
                       size_t kx, size_t y0, size_t x0, size_t n, size_t nr, float* dst) {
  size_t y = y0, x = x0, l = 0;
  const ptrdiff_t off = (ptrdiff_t)(kx * s->dilation_w) - (ptrdiff_t)s->pad_left;
  while (l < n) {
    const size_t len = ow - x < n - l ? ow - x : n - l;
    const ptrdiff_t iy = (ptrdiff_t)(y * s->stride_h + ky * s->dilation_h) - (ptrdiff_t)s->pad_top;
    if (iy < 0 || iy >= (ptrdiff_t)s->in_h) {
      memset(dst + l, 0, len * sizeof *dst);
    } else if (s->stride_w == 1) {
      im2col_run_stride1(plane + (size_t)iy * s->in_w, s->in_w, x, off, len, dst + l);
    } else {
      const float* row = plane + (size_t)iy * s->in_w;
      for (size_t t = 0; t < len; t++) {
        const ptrdiff_t ix = (ptrdiff_t)((x + t) * s->stride_w) + off;
        dst[l + t] = ix >= 0 && ix < (ptrdiff_t)s->in_w ? row[ix] : 0.0f;
      }
    }
    l += len, x = 0, y++;
  }
  for (; l < nr; l++) dst[l] = 0.0f;
}

static void im2col_task(void* ctx, size_t t, size_t thread) {
  const im2col_job* j = ctx;
  (void)thread;
  const qb_conv2d_shape* s = j->s;
  const size_t np = (j->P + j->nr - 1) / j->nr, p0 = t * np / j->tasks, p1 = (t + 1) * np / j->tasks;
  const size_t cg = s->in_channels / s->groups, plane_size = s->in_h * s->in_w;
  const size_t ow = qb_conv2d_out_w(s);
  for (size_t p = p0; p < p1; p++) {
    const size_t q0 = p * j->nr, n = j->P - q0 < j->nr ? j->P - q0 : j->nr;
    const size_t y0 = q0 / ow, x0 = q0 % ow; /* once per panel, not per tap */
    float* dst = j->packed + p * j->K * j->nr;
    for (size_t c = 0; c < cg; c++) {
      const float* plane = j->image + (j->group * cg + c) * plane_size;
      for (size_t ky = 0; ky < s->kernel_h; ky++)
        for (size_t kx = 0; kx < s->kernel_w; kx++, dst += j->nr)
          im2col_row(s, ow, plane, ky, kx, y0, x0, n, j->nr, dst);
    }
  }
}

static bool is_pointwise(const qb_conv2d_shape* s) {
  return s->kernel_h == 1 && s->kernel_w == 1 && s->stride_h == 1 && s->stride_w == 1 &&
         !s->pad_top && !s->pad_left && !s->pad_bottom && !s->pad_right;
}

void qb_f32_conv_group(const qb_model* m, const qb_conv2d_shape* s, const float* image,
                       size_t group, const float* w, float* out) {
  const struct qb_f32_runtime* r = m->f32;
  const qb_f32_gemm_entry* e = r->entry;
  const size_t P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s), og = s->out_channels / s->groups;
  const size_t cg = s->in_channels / s->groups, K = cg * s->kernel_h * s->kernel_w;
  if (is_pointwise(s)) {
    /* The image's channel planes are B (K = channels, N = positions) as they are. */
    qb_f32_gemm_pack_threaded(e, r->pool, P, K, image + group * cg * P, P, 1, r->scratch);
  } else {
    const size_t T = qb_f32_gemm_threads_for(r->pool, K * P * 16);
    im2col_job j = {s, image, group, K, P, e->info.nr, T, r->scratch};
    if (T == 1) im2col_task(&j, 0, 0);
    else qb_thread_pool_run(r->pool, T, im2col_task, &j);
  }
  qb_f32_gemm_threaded_run(e, r->pool, og, P, K, w, K, r->scratch, out, P);
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

void qb_f32_dwconv(const qb_model* m, const qb_conv2d_shape* s, const float* image, const float* w,
                   float* out) {
  const struct qb_f32_runtime* r = m->f32;
  const size_t P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  const size_t T = qb_f32_gemm_threads_for(r->pool, s->out_channels * P * s->kernel_h * s->kernel_w * 8);
  dw_job j = {qb_dispatch_best()->f32_dwconv2d, s, image, w, out, T};
  if (T == 1) dw_task(&j, 0, 0);
  else qb_thread_pool_run(r->pool, T, dw_task, &j);
}
