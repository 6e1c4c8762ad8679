/* Static calibration: activation statistics gathered in fp32 runs, ranges chosen
 * from them with any range strategy, then the integer constants every quantized
 * layer derives from its input / output qparams. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_quant_internal.h"

void qb_quant_reset_calibration(qb_quant_state* q) {
  for (size_t v = 0; v < q->nvalues; v++) {
    qb_act_stats* s = &q->stats[v];
    s->nbatches = 0, s->nsample = 0, s->seen = 0;
    s->rng = 0x9E3779B97F4A7C15ull ^ (v + 1);
    q->act_has[v] = false;
  }
  q->calibrated = q->cfg.workflow != QB_WORKFLOW_STATIC;
}

static uint64_t next_rand(uint64_t* s) { /* xorshift64* */
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1Dull;
}

/* Records one batch of value v: its min / max, and a uniform reservoir sample
 * (Vitter's algorithm R, deterministic seed per value) of everything seen. */
void qb_quant_observe(qb_quant_state* q, const qb_model* m, int value) {
  if (value < 0 || (size_t)value >= q->nvalues || !q->stats[value].needed) return;
  qb_act_stats* s = &q->stats[value];
  const qb_value* v = &m->values[value];
  if (s->nbatches == s->batch_cap) {
    const size_t cap = s->batch_cap ? 2 * s->batch_cap : 64;
    float* a = realloc(s->batch_min, cap * sizeof *a);
    if (a) s->batch_min = a;
    float* b = realloc(s->batch_max, cap * sizeof *b);
    if (b) s->batch_max = b;
    if (!a || !b) return; /* out of memory: this batch is not recorded */
    s->batch_cap = cap;
  }
  if (!s->sample && !(s->sample = malloc(QB_CALIB_SAMPLE * sizeof *s->sample))) return;
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < v->numel; i++) {
    const float x = v->data[i];
    lo = x < lo ? x : lo, hi = x > hi ? x : hi;
    if (s->seen < QB_CALIB_SAMPLE) {
      s->sample[s->nsample++] = x;
    } else {
      const uint64_t j = next_rand(&s->rng) % (s->seen + 1);
      if (j < QB_CALIB_SAMPLE) s->sample[j] = x;
    }
    s->seen++;
  }
  if (s->nbatches == 0) s->min = lo, s->max = hi;
  else s->min = fminf(s->min, lo), s->max = fmaxf(s->max, hi);
  s->batch_min[s->nbatches] = lo, s->batch_max[s->nbatches] = hi;
  s->nbatches++;
}

static int choose(const qb_quant_state* q, const qb_act_stats* s, const qb_range_strategy* r,
                  float* lo, float* hi, qb_error* err) {
  switch (r->kind) {
    case QB_RANGE_MINMAX:
      *lo = s->min, *hi = s->max;
      return 0;
    case QB_RANGE_MOVAVG: /* PyTorch's MovingAverageMinMaxObserver over the batches */
      *lo = s->batch_min[0], *hi = s->batch_max[0];
      for (size_t b = 1; b < s->nbatches; b++) {
        *lo += r->movavg_constant * (s->batch_min[b] - *lo);
        *hi += r->movavg_constant * (s->batch_max[b] - *hi);
      }
      return 0;
    default:
      return qb_range_choose(r, &q->cfg.act.scheme, s->sample, s->nsample, 0, lo, hi, err);
  }
}

int qb_quant_finish_calibration(qb_quant_state* q, const qb_range_strategy* strategy,
                                qb_error* err) {
  if (q->cfg.workflow != QB_WORKFLOW_STATIC) return 0;
  const qb_range_strategy* r = strategy ? strategy : &q->cfg.act.range;
  for (size_t v = 0; v < q->nvalues; v++) {
    const qb_act_stats* s = &q->stats[v];
    if (!s->needed) continue;
    if (s->nbatches == 0)
      return qb_fail(err, "activation %zu was never observed: run calibration batches "
                     "(QB_EXEC_CALIBRATE) first", v);
    if (!isfinite(s->min) || !isfinite(s->max))
      return qb_fail(err, "activation %zu has non-finite values in calibration", v);
    float lo, hi;
    if (choose(q, s, r, &lo, &hi, err)) return -1;
    if (qb_qparams_from_range(&q->cfg.act.scheme, lo, hi, &q->act_qp[v], err)) return -1;
    q->act_has[v] = true;
  }
  if (qb_quant_finish_layers(q, err)) return -1;
  q->calibrated = true;
  return 0;
}

/* The output clamp: the scheme's codes, cut to the folded activation's bounds on
 * the output grid (Relu: the zero point; Relu6: zp + round(6 / s)), rounded as the
 * quantize kernels round, so clamping codes equals quantizing clamped values. */
static void output_clamp(const qb_quant_state* q, qb_qlayer* L) {
  const qb_qscheme* sc = &q->cfg.act.scheme;
  const qb_qparams p = q->act_qp[L->out_value];
  int32_t lo = qb_qscheme_qmin(sc), hi = qb_qscheme_qmax(sc);
  if (L->act_node >= 0) {
    const float b[2] = {L->act_lo, L->act_hi};
    int32_t c[2];
    for (int i = 0; i < 2; i++)
      if (isfinite(b[i])) qb_f32_qs32_quantize__scalar(1, &b[i], p.scale, p.zero_point, lo, hi, sc->rounding, &c[i]);
    if (isfinite(b[0])) lo = c[0];
    if (isfinite(b[1])) hi = c[1];
    if (hi < lo) hi = lo;
  }
  L->out_qmin = lo, L->out_qmax = hi;
}

/* bias_q[n] = round_half_even(b[n] / (sx * sw[n])) as int32 (saturated), its
 * float value for the simulation, and the requantization scale sx * sw[n] / sy,
 * all in float32 as ONNX Runtime's QLinearConv / QLinearMatMul compute them (and
 * as Q31 fixed point for the gemmlowp rule). Pass-through nodes first take their
 * input's qparams, so a layer after a MaxPool reads the grid it is given. */
int qb_quant_finish_layers(qb_quant_state* q, qb_error* err) {
  qb_qplan_propagate_qparams(q);
  for (size_t k = 0; k < q->nnodes; k++) {
    qb_qlayer* L = &q->layers[k];
    if (L->kind == QB_QLAYER_NONE || q->cfg.weight.granularity.kind == QB_PER_GROUP) continue;
    if (!q->act_has[L->in_value] || !q->act_has[L->out_value]) continue;
    const size_t N = L->N;
    if (!L->bias_q) {
      L->bias_q = malloc(N * sizeof *L->bias_q);
      L->bias_fq = malloc(N * sizeof *L->bias_fq);
      L->requant_scale = malloc(N * sizeof *L->requant_scale);
      L->requant_fixed = malloc(N * sizeof *L->requant_fixed);
      if (!L->bias_q || !L->bias_fq || !L->requant_scale || !L->requant_fixed)
        return qb_fail(err, "out of memory");
    }
    const float sx = q->act_qp[L->in_value].scale, sy = q->act_qp[L->out_value].scale;
    for (size_t n = 0; n < N; n++) {
      const float s = sx * L->w_scale[n];
      const double bq = L->bias ? nearbyint((double)(L->bias[n] / s)) : 0.0;
      L->bias_q[n] = (int32_t)(bq > 2147483647.0 ? 2147483647.0 : (bq < -2147483648.0 ? -2147483648.0 : bq));
      L->bias_fq[n] = (float)L->bias_q[n] * s;
      L->requant_scale[n] = s / sy;
      L->requant_fixed[n] = qb_fixedpoint_multiplier_from_double((double)L->requant_scale[n]);
    }
    output_clamp(q, L);
  }
  qb_qplan_run(q); /* which nodes now run on integers */
  return 0;
}
