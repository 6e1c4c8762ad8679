/* Running one quantized layer (Gemm / MatMul / Conv with constant weights), in
 * simulation or on the integer kernels of the backend's dispatch table (the int4
 * paths are in qb_model_w4.c). See qb_model_quant.h for the equations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_quant_internal.h"

static size_t at_least1(size_t n) { return n ? n : 1; }

/* y = dequantize(quantize(x)) with the scheme's grid and rounding; y may be x. */
static void fake_quant(const qb_qscheme* s, qb_qparams p, const float* x, size_t n, float* y) {
  int32_t tmp[1024];
  const int32_t qmin = qb_qscheme_qmin(s), qmax = qb_qscheme_qmax(s);
  for (size_t i = 0; i < n; i += 1024) {
    const size_t c = n - i < 1024 ? n - i : 1024;
    qb_f32_qs32_quantize__scalar(c, x + i, p.scale, p.zero_point, qmin, qmax, s->rounding, tmp);
    qb_qs32_f32_dequantize__scalar(c, tmp, p.scale, p.zero_point, y + i);
  }
}

/* The input's qparams: calibrated (static) or from this batch (dynamic). */
static int input_qparams(const qb_quant_state* q, const qb_qlayer* L, const float* x, size_t n,
                         qb_qparams* p) {
  if (q->cfg.workflow == QB_WORKFLOW_STATIC) {
    *p = q->act_qp[L->in_value];
    return 0;
  }
  float lo, hi;
  if (qb_check_finite(x, n, NULL) ||
      qb_range_choose(&q->cfg.act.range, &q->cfg.act.scheme, x, n, 0, &lo, &hi, NULL))
    return -1;
  return qb_qparams_from_range(&q->cfg.act.scheme, lo, hi, p, NULL);
}

static void run_simulated(const qb_quant_state* q, const qb_model* m, const qb_node* n,
                          const qb_qlayer* L, const float* const* in) {
  const qb_value *x = qb_in(m, n, 0), *y = &m->values[n->out[0]];
  const float* in2[QB_NODE_MAX_INPUTS];
  memcpy(in2, in, sizeof in2); /* callers pass QB_NODE_MAX_INPUTS pointers */
  float* xf = NULL;
  qb_qparams px;
  if (L->path == QB_QPATH_W4A8) {
    /* The W4A8 kernel's own activation grid (see qb_model_quant.h). */
    if (!(xf = malloc((x->numel ? x->numel : 1) * sizeof *xf))) abort();
    qb_w4a8_fake_quant(in[0], x->numel / L->K, L->K, xf);
    in2[0] = xf;
  } else if (q->cfg.workflow != QB_WORKFLOW_WEIGHT_ONLY &&
             input_qparams(q, L, in[0], x->numel, &px) == 0 &&
             (xf = malloc((x->numel ? x->numel : 1) * sizeof *xf))) {
    fake_quant(&q->cfg.act.scheme, px, in[0], x->numel, xf);
    in2[0] = xf;
  }
  in2[1] = L->w_fq;
  /* Static: the int32 bias where there is one scale per output channel (not per
   * group), and the output requantized onto its calibrated grid in every case, as
   * the integer path does. */
  const bool static_q = q->cfg.workflow == QB_WORKFLOW_STATIC;
  if (n->nin > 2 && in[2] && static_q && L->bias_fq) in2[2] = L->bias_fq;
  qb_op_run_f32(m, n, in2);
  if (static_q && q->act_has[L->out_value])
    fake_quant(&q->cfg.act.scheme, q->act_qp[L->out_value], y->data, y->numel, y->data);
  free(xf);
}

/* Static: requantize an int32 block to the output grid with per-column bias and
 * scale (the table's fp32 requantize kernel) into u8 scratch (rows x cols, dense). */
static void requantize_block(const qb_quant_state* q, const qb_qlayer* L, const int32_t* acc,
                             size_t rows, size_t cols, size_t acc_rs, const int32_t* bias,
                             const float* scale, uint8_t* scratch) {
  const qb_qscheme* s = &q->cfg.act.scheme;
  q->table->qs32_q8_requantize_fp32->qs32_qu8(rows, cols, acc, acc_rs, bias, scale,
                                              q->act_qp[L->out_value].zero_point,
                                              qb_qscheme_qmin(s), qb_qscheme_qmax(s), scratch, cols);
}

/* Turns an int32 block (rows x cols, element (r, c) at acc[r*acc_rs + c], output
 * channel c0 + c) into float outputs y[r*y_rs + c*y_cs]:
 *   static:  requantize to the output grid, then dequantize (table kernels);
 *   dynamic: acc * (sx * sw[c]) + b[c] in fp32. */
static void finish_block(const qb_quant_state* q, const qb_qlayer* L, qb_qparams px,
                         const int32_t* acc, size_t rows, size_t cols, size_t acc_rs, size_t c0,
                         float* y, size_t y_rs, size_t y_cs, uint8_t* scratch) {
  if (q->cfg.workflow == QB_WORKFLOW_STATIC) {
    const qb_qparams py = q->act_qp[L->out_value];
    requantize_block(q, L, acc, rows, cols, acc_rs, L->bias_q + c0, L->requant_scale + c0, scratch);
    if (y_cs == 1 && y_rs == cols) {
      q->table->q8_f32_dequantize->qu8_f32(rows * cols, scratch, py.scale, py.zero_point, y);
      return;
    }
    /* Same arithmetic as the dequantize kernels: (float)(q - zp) * scale. */
    for (size_t r = 0; r < rows; r++)
      for (size_t c = 0; c < cols; c++)
        y[r * y_rs + c * y_cs] = (float)((int32_t)scratch[r * cols + c] - py.zero_point) * py.scale;
    return;
  }
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) {
      const float s = px.scale * L->w_scale[c0 + c];
      y[r * y_rs + c * y_cs] = (float)acc[r * acc_rs + c] * s + (L->bias ? L->bias[c0 + c] : 0.0f);
    }
}

static void run_integer_gemm(const qb_quant_state* q, const qb_qlayer* L, qb_qparams px,
                             const uint8_t* xq, size_t M, float* y) {
  const size_t N = L->N, K = L->K;
  int32_t* acc = malloc(at_least1(M * N) * sizeof *acc);
  uint8_t* scratch = malloc(at_least1(M * N));
  if (!acc || !scratch) abort();
  qb_gemm_threaded_run(&L->packed[0], q->pool, M, xq, K, px.zero_point, acc, N);
  finish_block(q, L, px, acc, M, N, N, 0, y, N, 1, scratch);
  free(acc), free(scratch);
}

/* Depthwise: the table's dwconv gives acc[b][c][p]. Static: each channel is one
 * row of P outputs sharing one bias and scale, requantized as a 1 x P block with
 * the channel's values repeated (so the kernels run along P, not 1 x 1 blocks). */
static void run_integer_dwconv(const qb_quant_state* q, const qb_qlayer* L, const qb_conv2d_shape* s,
                               qb_qparams px, const uint8_t* xq, float* y) {
  const size_t P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s), C = s->out_channels;
  int32_t* acc = malloc(at_least1(s->batch * C * P) * sizeof *acc);
  uint8_t* scratch = malloc(at_least1(P));
  int32_t* bias = malloc(at_least1(P) * sizeof *bias);
  float* scale = malloc(at_least1(P) * sizeof *scale);
  if (!acc || !scratch || !bias || !scale) abort();
  q->table->qu8_qs8_qs32_dwconv2d->run(s, xq, px.zero_point, L->w_s8, L->w_zp, acc);
  const bool static_q = q->cfg.workflow == QB_WORKFLOW_STATIC;
  const qb_qparams py = static_q ? q->act_qp[L->out_value] : px;
  for (size_t c = 0; c < C; c++) {
    if (static_q)
      for (size_t p = 0; p < P; p++) bias[p] = L->bias_q[c], scale[p] = L->requant_scale[c];
    for (size_t b = 0; b < s->batch; b++) {
      const int32_t* a = acc + (b * C + c) * P;
      float* yc = y + (b * C + c) * P;
      if (!static_q) {
        finish_block(q, L, px, a, P, 1, 1, c, yc, 1, 0, scratch);
        continue;
      }
      requantize_block(q, L, a, 1, P, P, bias, scale, scratch);
      q->table->q8_f32_dequantize->qu8_f32(P, scratch, py.scale, py.zero_point, yc);
    }
  }
  free(acc), free(scratch), free(bias), free(scale);
}

static void run_integer_conv(const qb_quant_state* q, const qb_model* m, const qb_node* n,
                             const qb_qlayer* L, qb_qparams px, const uint8_t* xq, float* y) {
  qb_conv2d_shape s;
  qb_node_conv_shape(m, n, &s);
  const size_t P = qb_conv2d_out_h(&s) * qb_conv2d_out_w(&s), C = s.out_channels;
  const size_t og = C / s.groups, K = L->K, image = s.in_channels * s.in_h * s.in_w;
  if (L->depthwise) {
    run_integer_dwconv(q, L, &s, px, xq, y);
    return;
  }
  uint8_t* cols = malloc(at_least1(P * K));
  int32_t* acc = malloc(at_least1(P * og) * sizeof *acc);
  uint8_t* scratch = malloc(at_least1(P * og));
  if (!cols || !acc || !scratch) abort();
  for (size_t b = 0; b < s.batch; b++)
    for (size_t g = 0; g < s.groups; g++) {
      qb_qu8_im2col__scalar(&s, xq + b * image, g, (uint8_t)px.zero_point, cols);
      qb_gemm_threaded_run(&L->packed[g], q->pool, P, cols, K, px.zero_point, acc, og);
      finish_block(q, L, px, acc, P, og, og, g * og, y + (b * C + g * og) * P, 1, P, scratch);
    }
  free(cols), free(acc), free(scratch);
}

static bool run_integer(const qb_quant_state* q, const qb_model* m, const qb_node* n,
                        const qb_qlayer* L, const float* const* in) {
  const qb_value *x = qb_in(m, n, 0), *y = &m->values[n->out[0]];
  if (L->path == QB_QPATH_W4A32 || L->path == QB_QPATH_W4A8) {
    if (qb_check_finite(in[0], x->numel, NULL)) return false;
    qb_w4_run(q, L, in[0], x->numel / L->K, y->data);
    return true;
  }
  qb_qparams px;
  if (input_qparams(q, L, in[0], x->numel, &px)) return false;
  if (q->cfg.workflow == QB_WORKFLOW_STATIC && !L->bias_q) return false;
  uint8_t* xq = malloc(x->numel ? x->numel : 1);
  if (!xq) abort();
  const qb_qscheme* s = &q->cfg.act.scheme;
  q->table->f32_q8_quantize->f32_qu8(x->numel, in[0], px.scale, px.zero_point, qb_qscheme_qmin(s),
                                     qb_qscheme_qmax(s), s->rounding, xq);
  if (L->kind == QB_QLAYER_GEMM) run_integer_gemm(q, L, px, xq, x->numel / L->K, y->data);
  else run_integer_conv(q, m, n, L, px, xq, y->data);
  free(xq);
  return true;
}

bool qb_quant_run_node(qb_quant_state* q, const qb_model* m, size_t k, const float* const* in,
                       qb_exec_mode mode) {
  const qb_qlayer* L = &q->layers[k];
  if (L->kind == QB_QLAYER_NONE) return false;
  const qb_node* n = &m->nodes[k];
  if (mode == QB_EXEC_INTEGER && L->int_ok && run_integer(q, m, n, L, in)) return true;
  run_simulated(q, m, n, L, in);
  return true;
}
