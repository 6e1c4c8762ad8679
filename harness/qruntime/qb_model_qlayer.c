/* Running one quantized layer (Gemm / MatMul / Conv with constant weights) with the
 * nodes folded into it (qb_model_qplan.c):
 *   static integer   u8 in -> int8 GEMM (im2col for Conv) or dwconv -> requantized
 *                    to u8 right after each block of accumulators (the threaded
 *                    driver's epilogue), clamped by the folded activation;
 *   dynamic integer  fp32 in, quantized per sample (or per token), int8 GEMM, fp32 out;
 *   simulated        fake-quant at the same points, fp32 math.
 * The int4 paths are in qb_model_w4.c. See qb_model_quant.h for the equations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "im2col/qb_u8_transpose16.h"
#include "qb_dwconv_threaded.h"
#include "qb_im2col_threaded.h"
#include "qb_model_quant_internal.h"
#include "qb_ops_f32.h"

/* Fake-quant y = dequantize(quantize(x)) on the grid p. Grids of at most 8 bits go
 * through the table's quantize / dequantize kernels (exact: the scalar rule byte for
 * byte, so the simulation does not depend on the backend), in chunks that stay in L1;
 * wider grids take the int32 scalar rule. */
void qb_quant_fake(const qb_quant_state* q, qb_qparams p, const float* x, size_t n, float* y) {
  enum { CHUNK = 1024 };
  const qb_qscheme* s = &q->cfg.act.scheme;
  const int32_t qmin = qb_qscheme_qmin(s), qmax = qb_qscheme_qmax(s);
  const qb_f32_q8_quantize_entry* qe = q->table->f32_q8_quantize;
  const qb_q8_f32_dequantize_entry* de = q->table->q8_f32_dequantize;
  const bool u8 = qmin >= 0 && qmax <= 255, s8 = qmin >= -128 && qmax <= 127;
  union {
    int32_t s32[CHUNK];
    uint8_t u8[CHUNK];
    int8_t s8[CHUNK];
  } t;
  for (size_t i = 0; i < n; i += CHUNK) {
    const size_t c = n - i < CHUNK ? n - i : CHUNK;
    if (u8 && qe->info.exact && de->info.exact) {
      qe->f32_qu8(c, x + i, p.scale, p.zero_point, qmin, qmax, s->rounding, t.u8);
      de->qu8_f32(c, t.u8, p.scale, p.zero_point, y + i);
    } else if (s8 && qe->info.exact && de->info.exact) {
      qe->f32_qs8(c, x + i, p.scale, p.zero_point, qmin, qmax, s->rounding, t.s8);
      de->qs8_f32(c, t.s8, p.scale, p.zero_point, y + i);
    } else {
      qb_f32_qs32_quantize__scalar(c, x + i, p.scale, p.zero_point, qmin, qmax, s->rounding, t.s32);
      qb_qs32_f32_dequantize__scalar(c, t.s32, p.scale, p.zero_point, y + i);
    }
  }
}

/* Dynamic: per-sample qparams of x (n elements) with the qconfig's range strategy. */
static int sample_qparams(const qb_quant_state* q, const float* x, size_t n, qb_qparams* p,
                          qb_error* err) {
  float lo, hi;
  if (qb_check_finite(x, n, NULL)) return qb_fail(err, "non-finite input: cannot quantize it");
  if (qb_range_choose(&q->cfg.act.range, &q->cfg.act.scheme, x, n, 0, &lo, &hi, err)) return -1;
  return qb_qparams_from_range(&q->cfg.act.scheme, lo, hi, p, err);
}

/* ------------------------------------------------------------ epilogues */

typedef struct {
  const qb_quant_state* q;
  const qb_qlayer* L;
  size_t c0;          /* output channel of column 0 (a Conv group's first) */
  size_t P;           /* 0: output rows of N (Gemm); else channel planes of P (Conv) */
  uint8_t* y;         /* static: u8 output at column c0 */
  uint8_t* tile;      /* static Conv: one transposition tile per thread */
  size_t tile_stride;
  float* yf;          /* dynamic: fp32 output at column c0 */
  float sx;           /* dynamic: the input's scale */
  const qb_qparams* row_qp; /* dynamic per token: row r's qparams (else NULL) */
} epilogue;

/* acc (m x n) + bias -> u8 with the layer's rule and clamp; `scale` is float* (fp32
 * rule) or qb_fixedpoint_multiplier* (gemmlowp), entries for the n columns. */
static void requant(const qb_quant_state* q, const qb_qlayer* L, size_t m, size_t n,
                    const int32_t* acc, size_t ldacc, const int32_t* bias, const void* scale,
                    uint8_t* y, size_t ldy) {
  const int32_t zp = q->act_qp[L->out_value].zero_point;
  if (q->cfg.requant == QB_REQUANT_GEMMLOWP)
    q->table->qs32_q8_requantize_gemmlowp->qs32_qu8(m, n, acc, ldacc, bias, scale, zp, L->out_qmin,
                                                    L->out_qmax, y, ldy);
  else
    q->table->qs32_q8_requantize_fp32->qs32_qu8(m, n, acc, ldacc, bias, scale, zp, L->out_qmin,
                                                L->out_qmax, y, ldy);
}

static const void* requant_scale_at(const qb_quant_state* q, const qb_qlayer* L, size_t c) {
  return q->cfg.requant == QB_REQUANT_GEMMLOWP ? (const void*)(L->requant_fixed + c)
                                               : (const void*)(L->requant_scale + c);
}

/* t (m x n bytes, row stride n) transposed into n planes (stride P): y[j*P + r] =
 * t[r*n + j], by 16 x 16 byte blocks (a partial block staged through zeros). */
static void tile_to_planes(const uint8_t* t, size_t m, size_t n, uint8_t* y, size_t P) {
  for (size_t r0 = 0; r0 < m; r0 += 16)
    for (size_t j0 = 0; j0 < n; j0 += 16) {
      const size_t nr = m - r0 < 16 ? m - r0 : 16, nj = n - j0 < 16 ? n - j0 : 16;
      uint8_t in[16][16], out[16][16];
      /* Constant-size copies (inlined) for whole blocks, bytes for the edges. */
      if (nr < 16 || nj < 16) memset(in, 0, sizeof in);
      for (size_t r = 0; r < nr; r++) {
        const uint8_t* src = t + (r0 + r) * n + j0;
        if (nj == 16) memcpy(in[r], src, 16);
        else for (size_t j = 0; j < nj; j++) in[r][j] = src[j];
      }
      qb_u8_transpose16((const uint8_t(*)[16])in, out);
      for (size_t j = 0; j < nj; j++) {
        uint8_t* dst = y + (j0 + j) * P + r0;
        if (nr == 16) memcpy(dst, out[j], 16);
        else for (size_t r = 0; r < nr; r++) dst[r] = out[j][r];
      }
    }
}

static void epilogue_u8(void* ctx, size_t thread, size_t m0, size_t m, size_t n0, size_t n,
                        const int32_t* acc, size_t ldacc) {
  const epilogue* e = ctx;
  const size_t c = e->c0 + n0;
  const void* scale = requant_scale_at(e->q, e->L, c);
  if (!e->P) {
    const size_t N = e->L->N;
    requant(e->q, e->L, m, n, acc, ldacc, e->L->bias_q + c, scale, e->y + m0 * N + n0, N);
    return;
  }
  /* Rows are output positions, columns channels: requantize into the thread's tile,
   * then write each channel's run of positions into its NCHW plane. */
  uint8_t* t = e->tile + thread * e->tile_stride;
  requant(e->q, e->L, m, n, acc, ldacc, e->L->bias_q + c, scale, t, n);
  tile_to_planes(t, m, n, e->y + n0 * e->P + m0, e->P);
}

/* The GEMM of a per-token input runs with one zero point, QB_TOKEN_ZP, for every row;
 * row r's own zero point z_r is put back here, exactly:
 *   sum_k (a - z_r)(w - zw) = acc - (z_r - QB_TOKEN_ZP) * sum_k (w - zw).
 * 128 keeps |a - QB_TOKEN_ZP| <= 128, the kernels' K bound (qb_model_quant.c). */
#define QB_TOKEN_ZP 128

/* Per token: y = (acc - (z_r - 128) * wsum[c]) * (s_r * sw[c]) + b[c] in fp32. */
static void epilogue_f32_token(const epilogue* e, size_t m0, size_t m, size_t n0, size_t n,
                               const int32_t* acc, size_t ldacc) {
  const qb_qlayer* L = e->L;
  for (size_t r = 0; r < m; r++) {
    const qb_qparams p = e->row_qp[m0 + r];
    for (size_t j = 0; j < n; j++) {
      const size_t c = e->c0 + n0 + j;
      const int64_t a = (int64_t)acc[r * ldacc + j] - (int64_t)(p.zero_point - QB_TOKEN_ZP) * L->w_sum[c];
      e->yf[(m0 + r) * L->N + n0 + j] = (float)a * (p.scale * L->w_scale[c]) + (L->bias ? L->bias[c] : 0.0f);
    }
  }
}

/* Dynamic: y = acc * (sx * sw[c]) + b[c] in fp32. */
static void epilogue_f32(void* ctx, size_t thread, size_t m0, size_t m, size_t n0, size_t n,
                         const int32_t* acc, size_t ldacc) {
  (void)thread;
  const epilogue* e = ctx;
  const qb_qlayer* L = e->L;
  if (e->row_qp) {
    epilogue_f32_token(e, m0, m, n0, n, acc, ldacc);
    return;
  }
  for (size_t j = 0; j < n; j++) {
    const size_t c = e->c0 + n0 + j;
    const float s = e->sx * L->w_scale[c], b = L->bias ? L->bias[c] : 0.0f;
    for (size_t r = 0; r < m; r++) {
      const float v = (float)acc[r * ldacc + j] * s + b;
      if (e->P) e->yf[(n0 + j) * e->P + m0 + r] = v;
      else e->yf[(m0 + r) * L->N + n0 + j] = v;
    }
  }
}

/* Below these sizes a layer runs on the calling thread: a fork-join costs a few
 * microseconds on a shared machine (wake-up, cache lines moving between cores),
 * more than a second thread saves on a job this small. Measured on vit's 17 x 64
 * GEMMs (2 threads were 1.4-1.7x slower than 1) and dwnet's last Gemm. A GEMM's
 * work counts each output's epilogue (requantization, the store into its plane) as
 * EPILOGUE_MACS multiply-adds, so a conv with a short K (a stem: K = 9) but many
 * outputs is still split. The same outputs either way. */
enum {
  Q8_GEMM_THREAD_MIN_MACS = 1 << 18,
  EPILOGUE_MACS = 32,
  Q8_DWCONV_THREAD_MIN_MACS = 1 << 17,
  Q8_IM2COL_THREAD_MIN_BYTES = 1 << 16, /* each task pads its own copy of the planes */
};

static qb_thread_pool* pool_for(const qb_quant_state* q, size_t work, size_t min_work) {
  return work >= min_work ? q->pool : NULL;
}

static size_t gemm_work(size_t M, size_t N, size_t K) { return M * N * (K + EPILOGUE_MACS); }

static int gemm_fused(qb_quant_state* q, const qb_gemm_threaded_weights* w, size_t M,
                      const uint8_t* A, size_t lda, int32_t za, epilogue* e, bool u8_out,
                      qb_error* err) {
  const size_t T = q->pool ? q->threads : 1, blk = qb_gemm_threaded_block_elems(w);
  int32_t* acc = qb_quant_scratch(q, QB_SCR_ACC, T * blk * sizeof *acc, err);
  if (!acc) return -1;
  if (u8_out && e->P) {
    if (!(e->tile = qb_quant_scratch(q, QB_SCR_TILE, T * blk, err))) return -1;
    e->tile_stride = blk;
  }
  const qb_gemm_epilogue ep = {u8_out ? epilogue_u8 : epilogue_f32, e, acc, blk};
  qb_thread_pool* pool = pool_for(q, gemm_work(M, w->N, w->K), Q8_GEMM_THREAD_MIN_MACS);
  qb_gemm_threaded_run_fused(w, pool, M, A, lda, za, &ep);
  return 0;
}

/* ------------------------------------------------------ static integer */

/* Depthwise: the table's fused kernel of the layer's rule (int32 accumulation, then
 * the fp32 or gemmlowp requantization and the folded clamp on each block of
 * accumulators while in L1), threaded over channels. The gemmlowp rule ran the
 * int32 depthwise over the whole layer and requantized its planes afterwards (an
 * int32 tensor written and read back, and the int32 kernel's phase planes on small
 * planes): dwnet's depthwise layers took 1.6-2.3x the fp32 rule's time. */
static void dwconv_q8(qb_quant_state* q, const qb_qlayer* L, const qb_conv2d_shape* s,
                      const uint8_t* xq, int32_t za, uint8_t* yq) {
  const bool gemmlowp = q->cfg.requant == QB_REQUANT_GEMMLOWP;
  const qb_dwconv_args a = {.shape = s, .x = xq, .x_zero_point = za, .w = L->w_s8,
                            .w_zero_point = L->w_zp, .bias = L->bias_q,
                            .scale = gemmlowp ? NULL : L->requant_scale,
                            .multiplier = gemmlowp ? L->requant_fixed : NULL,
                            .y_zero_point = q->act_qp[L->out_value].zero_point,
                            .qmin = L->out_qmin, .qmax = L->out_qmax, .y = yq};
  const size_t macs = s->batch * s->out_channels * qb_conv2d_out_h(s) * qb_conv2d_out_w(s) *
                      s->kernel_h * s->kernel_w;
  qb_thread_pool* pool = pool_for(q, macs, Q8_DWCONV_THREAD_MIN_MACS);
  if (gemmlowp)
    qb_dwconv_threaded_run_gemmlowp(q->table->qu8_qs8_qu8_dwconv2d_minmax_gemmlowp, pool, &a);
  else
    qb_dwconv_threaded_run(q->table->qu8_qs8_qu8_dwconv2d_minmax_fp32, pool, &a);
}

/* A Conv (not depthwise) over a batch, static (u8 out) or dynamic (fp32 out, per
 * image qparams px): per image and group, im2col then the fused GEMM. With several
 * threads and images, whole images go to the threads (each with its own columns,
 * accumulator block and tile; no synchronization inside an image); one image is
 * split inside im2col and the GEMM instead. Every output is computed the same way
 * either way: results do not depend on the thread count. */
typedef struct {
  qb_quant_state* q;
  const qb_qlayer* L;
  const qb_conv2d_shape* s;
  const uint8_t* x;
  int32_t za;            /* static: the input's zero point */
  const qb_qparams* px;  /* dynamic: each image's qparams (else NULL) */
  uint8_t* y;            /* static output */
  float* yf;             /* dynamic output */
  uint8_t* cols;         /* per thread: P x K */
  int32_t* acc;          /* per thread: blk (and per GEMM thread when pooled) */
  uint8_t* tile;
  size_t blk;
} conv_job;

static void conv_image(const conv_job* j, size_t b, size_t t, qb_thread_pool* pool) {
  const qb_conv2d_shape* s = j->s;
  const size_t P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s), C = s->out_channels;
  const size_t og = C / s->groups, K = j->L->K, image = s->in_channels * s->in_h * s->in_w;
  const int32_t za = j->px ? j->px[b].zero_point : j->za;
  uint8_t* cols = j->cols + t * P * K;
  qb_thread_pool* im2col_pool = P * K >= Q8_IM2COL_THREAD_MIN_BYTES ? pool : NULL;
  for (size_t g = 0; g < s->groups; g++) {
    qb_im2col_threaded_run(j->q->table->qu8_im2col, im2col_pool, s, j->x + b * image, g,
                           (uint8_t)za, cols);
    epilogue e = {.q = j->q, .L = j->L, .c0 = g * og, .P = P};
    if (j->y) {
      e.y = j->y + (b * C + g * og) * P;
      e.tile = j->tile + t * j->blk;
      e.tile_stride = j->blk;
    } else {
      e.yf = j->yf + (b * C + g * og) * P;
      e.sx = j->px[b].scale;
    }
    const qb_gemm_epilogue ep = {j->y ? epilogue_u8 : epilogue_f32, &e, j->acc + t * j->blk,
                                 j->blk};
    qb_gemm_threaded_run_fused(&j->L->packed[g], pool, P, cols, K, za, &ep);
  }
}

static void conv_image_task(void* ctx, size_t b, size_t thread) { conv_image(ctx, b, thread, NULL); }

static int conv_run(qb_quant_state* q, conv_job* j, qb_error* err) {
  const qb_conv2d_shape* s = j->s;
  const size_t T = q->pool ? q->threads : 1, P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  const bool per_image = T > 1 && s->batch >= T;
  j->blk = qb_gemm_threaded_block_elems(&j->L->packed[0]);
  j->cols = qb_quant_scratch(q, QB_SCR_COLS, (per_image ? T : 1) * P * j->L->K, err);
  j->acc = qb_quant_scratch(q, QB_SCR_ACC, T * j->blk * sizeof *j->acc, err);
  if (!j->cols || !j->acc) return -1;
  if (j->y && !(j->tile = qb_quant_scratch(q, QB_SCR_TILE, T * j->blk, err))) return -1;
  if (per_image)
    qb_thread_pool_run(q->pool, s->batch, conv_image_task, j);
  else {
    qb_thread_pool* pool = pool_for(q, gemm_work(P, s->out_channels, j->L->K), Q8_GEMM_THREAD_MIN_MACS);
    for (size_t b = 0; b < s->batch; b++) conv_image(j, b, 0, pool);
  }
  return 0;
}

static int conv_q8(qb_quant_state* q, const qb_model* m, const qb_node* n, const qb_qlayer* L,
                   const uint8_t* xq, int32_t za, uint8_t* yq, qb_error* err) {
  qb_conv2d_shape s;
  qb_node_conv_shape(m, n, &s);
  if (L->depthwise) {
    dwconv_q8(q, L, &s, xq, za, yq);
    return 0;
  }
  conv_job j = {.q = q, .L = L, .s = &s, .x = xq, .za = za, .y = yq};
  return conv_run(q, &j, err);
}

int qb_qlayer_run_q8(qb_quant_state* q, const qb_model* m, size_t k, const uint8_t* xq,
                     uint8_t* yq, qb_error* err) {
  const qb_qlayer* L = &q->layers[k];
  const qb_node* n = &m->nodes[k];
  const int32_t za = q->act_qp[L->in_value].zero_point;
  if (L->kind == QB_QLAYER_CONV) return conv_q8(q, m, n, L, xq, za, yq, err);
  epilogue e = {.q = q, .L = L, .y = yq};
  return gemm_fused(q, &L->packed[0], m->values[L->in_value].numel / L->K, xq, L->K, za, &e, true,
                    err);
}

/* ------------------------------------------------------ dynamic integer */

/* Activations quantized per sample (dims[0]): the accuracy of a sample does not
 * depend on the batch it is evaluated in. */
static int dwconv_dynamic(qb_quant_state* q, const qb_qlayer* L, qb_conv2d_shape s,
                          const uint8_t* xq, const qb_qparams* px, float* y, qb_error* err) {
  const size_t P = qb_conv2d_out_h(&s) * qb_conv2d_out_w(&s), C = s.out_channels;
  const size_t batch = s.batch, image = s.in_channels * s.in_h * s.in_w;
  int32_t* acc = qb_quant_scratch(q, QB_SCR_DWACC, C * P * sizeof *acc, err);
  if (!acc) return -1;
  s.batch = 1;
  for (size_t b = 0; b < batch; b++) {
    q->table->qu8_qs8_qs32_dwconv2d->run(&s, xq + b * image, px[b].zero_point, L->w_s8, L->w_zp,
                                          acc);
    epilogue e = {.q = q, .L = L, .P = P, .yf = y + b * C * P, .sx = px[b].scale};
    for (size_t c = 0; c < C; c++) epilogue_f32(&e, 0, 0, P, c, 1, acc + c * P, 1);
  }
  return 0;
}

static bool per_token(const qb_quant_state* q, const qb_qlayer* L) {
  return q->cfg.act.granularity.kind == QB_PER_TOKEN && L->kind == QB_QLAYER_GEMM;
}

/* Per token: every row of K quantized on its own grid (the range strategy over the
 * row), then one GEMM over all rows with the common zero point QB_TOKEN_ZP. */
static int run_dynamic_token(qb_quant_state* q, const qb_qlayer* L, const qb_value* xv,
                             const float* x, float* y, qb_error* err) {
  const size_t rows = xv->numel / L->K;
  uint8_t* xq = qb_quant_scratch(q, QB_SCR_XQ, xv->numel, err);
  qb_qparams* pr = qb_quant_scratch(q, QB_SCR_REP, rows * sizeof *pr, err);
  if (!xq || !pr) return -1;
  const qb_qscheme* sc = &q->cfg.act.scheme;
  for (size_t r = 0; r < rows; r++) {
    if (sample_qparams(q, x + r * L->K, L->K, &pr[r], err)) return -1;
    q->table->f32_q8_quantize->f32_qu8(L->K, x + r * L->K, pr[r].scale, pr[r].zero_point,
                                       qb_qscheme_qmin(sc), qb_qscheme_qmax(sc), sc->rounding,
                                       xq + r * L->K);
  }
  epilogue e = {.q = q, .L = L, .yf = y, .row_qp = pr};
  return gemm_fused(q, &L->packed[0], rows, xq, L->K, QB_TOKEN_ZP, &e, false, err);
}

static int run_dynamic(qb_quant_state* q, const qb_model* m, const qb_node* n, const qb_qlayer* L,
                       const float* x, float* y, qb_error* err) {
  const qb_value* xv = &m->values[L->in_value];
  if (per_token(q, L)) return run_dynamic_token(q, L, xv, x, y, err);
  const size_t samples = xv->ndim > 0 && xv->dims[0] ? xv->dims[0] : 1, per = xv->numel / samples;
  uint8_t* xq = qb_quant_scratch(q, QB_SCR_XQ, xv->numel, err);
  qb_qparams* px = qb_quant_scratch(q, QB_SCR_REP, samples * sizeof *px, err);
  if (!xq || !px) return -1;
  const qb_qscheme* sc = &q->cfg.act.scheme;
  for (size_t b = 0; b < samples; b++) {
    if (sample_qparams(q, x + b * per, per, &px[b], err)) return -1;
    q->table->f32_q8_quantize->f32_qu8(per, x + b * per, px[b].scale, px[b].zero_point,
                                       qb_qscheme_qmin(sc), qb_qscheme_qmax(sc), sc->rounding,
                                       xq + b * per);
  }
  if (L->kind == QB_QLAYER_GEMM) {
    const size_t rows = per / L->K;
    for (size_t b = 0; b < samples; b++) {
      epilogue e = {.q = q, .L = L, .yf = y + b * rows * L->N, .sx = px[b].scale};
      if (gemm_fused(q, &L->packed[0], rows, xq + b * per, L->K, px[b].zero_point, &e, false, err))
        return -1;
    }
    return 0;
  }
  qb_conv2d_shape s;
  qb_node_conv_shape(m, n, &s);
  if (L->depthwise) return dwconv_dynamic(q, L, s, xq, px, y, err);
  conv_job j = {.q = q, .L = L, .s = &s, .x = xq, .px = px, .yf = y};
  return conv_run(q, &j, err);
}

/* ------------------------------------------------------------ simulated */

/* The input as the layer's integer path sees it, in fp32 (into xf). */
static int fake_input(qb_quant_state* q, const qb_model* m, const qb_qlayer* L, const float* x,
                      float* xf, qb_error* err) {
  const qb_value* xv = &m->values[L->in_value];
  if (L->path == QB_QPATH_W4A8) /* the W4A8 kernel's own grid (see qb_model_quant.h) */
    return qb_w4a8_fake_quant(q, x, xv->numel / L->K, L->K, xf, err);
  if (q->cfg.workflow == QB_WORKFLOW_STATIC) {
    if (!q->act_has[L->in_value])
      return qb_fail(err, "'%.200s' has no activation qparams", xv->name);
    qb_quant_fake(q, q->act_qp[L->in_value], x, xv->numel, xf);
    return 0;
  }
  /* Per token, a row of K is the unit; else a sample. */
  const size_t samples = per_token(q, L)                      ? xv->numel / L->K
                         : xv->ndim > 0 && xv->dims[0] ? xv->dims[0]
                                                       : 1;
  const size_t per = xv->numel / samples;
  for (size_t b = 0; b < samples; b++) {
    qb_qparams p;
    if (sample_qparams(q, x + b * per, per, &p, err)) return -1;
    qb_quant_fake(q, p, x + b * per, per, xf + b * per);
  }
  return 0;
}

/* Static: the folded bias Add and activation, then the output grid, in fp32. */
static void finish_simulated(const qb_quant_state* q, const qb_qlayer* L, float* t, size_t n) {
  if (L->bias_add_node >= 0) {
    const float* b = L->bias_fq ? L->bias_fq : L->bias;
    for (size_t i = 0; i < n; i++) t[i] += b[i % L->N];
  }
  if (L->act_node >= 0)
    for (size_t i = 0; i < n; i++) t[i] = t[i] < L->act_lo ? L->act_lo : (t[i] > L->act_hi ? L->act_hi : t[i]);
  if (q->act_has[L->out_value]) qb_quant_fake(q, q->act_qp[L->out_value], t, n, t);
}

static int run_simulated(qb_quant_state* q, const qb_model* m, const qb_node* n,
                         const qb_qlayer* L, const float* const* in, float* y, qb_error* err) {
  const float* in2[QB_NODE_MAX_INPUTS];
  memcpy(in2, in, sizeof in2); /* callers pass QB_NODE_MAX_INPUTS pointers */
  const bool static_q = q->cfg.workflow == QB_WORKFLOW_STATIC;
  if (q->cfg.workflow != QB_WORKFLOW_WEIGHT_ONLY || L->path == QB_QPATH_W4A8) {
    const size_t nx = m->values[L->in_value].numel;
    float* xf = qb_quant_scratch(q, QB_SCR_XF, nx * sizeof *xf, err);
    if (!xf || fake_input(q, m, L, in[0], xf, err)) return -1;
    in2[0] = xf;
  }
  in2[1] = L->w_fq;
  /* Static: the int32 bias grid where there is one scale per output channel. */
  if (n->nin > 2 && in[2] && static_q && L->bias_fq) in2[2] = L->bias_fq;
  /* The layer's weights are constant: packed for the fp32 GEMM once, not per call. */
  const size_t k = (size_t)(n - m->nodes);
  qb_f32_hint_packed_b(m, k, L->w_fq, &q->layers[k].w_fq_packed);
  qb_op_run_f32(m, n, in2);
  qb_f32_hint_clear(m);
  const qb_value* t = &m->values[n->out[0]];
  if (static_q) finish_simulated(q, L, t->data, t->numel);
  if (y != t->data) memmove(y, t->data, t->numel * sizeof *y);
  return 0;
}

int qb_qlayer_run_f32(qb_quant_state* q, const qb_model* m, size_t k, const float* const* in,
                      qb_exec_mode mode, float* y, qb_error* err) {
  const qb_qlayer* L = &q->layers[k];
  const qb_node* n = &m->nodes[k];
  const qb_value* x = &m->values[L->in_value];
  if (mode == QB_EXEC_INTEGER && (L->path == QB_QPATH_W4A32 || L->path == QB_QPATH_W4A8)) {
    if (qb_check_finite(in[0], x->numel, NULL))
      return qb_fail(err, "'%.200s' holds non-finite values: the int4 kernels cannot run", x->name);
    return qb_w4_run(q, L, in[0], x->numel / L->K, y, err);
  }
  if (mode == QB_EXEC_INTEGER && L->path == QB_QPATH_Q8 && q->cfg.workflow == QB_WORKFLOW_DYNAMIC)
    return run_dynamic(q, m, n, L, in[0], y, err);
  return run_simulated(q, m, n, L, in, y, err);
}
