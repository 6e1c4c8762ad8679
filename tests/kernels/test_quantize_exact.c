/* Exactness of every quantize (f32 -> qs8 / qu8) and dequantize (qs8 / qu8 -> f32)
 * kernel in the dispatch lists against the scalar reference, bit for bit: every
 * length 0..10, 15-17, 31-33, 47-49, 63-65, 127-129, 1000 and random ones (tails of
 * each vector width), both rounding modes, exact ties (power-of-two scales), the
 * symmetric-tie scale amax/127.5, zero-point sweeps, narrow ranges (4-bit in a byte),
 * huge / tiny / signed-zero inputs, overflowing and subnormal scales. Inputs end at
 * an inaccessible page; outputs have 0xA5 guard bytes. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "qb_exact_util.h"
#include "qb_kernels.h"

typedef struct {
  float scale;
  int32_t zero_point, qmin, qmax;
} qparams;

static const qparams qs8_params[] = {
    {0.25f, 0, -128, 127},      {0.1f, 3, -127, 127},     {1.7f / 127.5f, 0, -128, 127},
    {0.05f, -7, -8, 7},         {3e-5f, 100, -128, 127},  {1.0f, -128, -128, 127},
    {0.5f, 127, -128, 127},     {0.125f, 0, -127, 127},
};
static const qparams qu8_params[] = {
    {0.5f, 128, 0, 255},  {0.02f, 37, 0, 255},   {2.0f / 255.0f, 0, 0, 255}, {0.3f, 8, 0, 15},
    {0.25f, 255, 0, 255}, {0.0625f, 18, 0, 255}, {1.3f / 127.5f, 128, 0, 255}, {1.0f, 0, 1, 254},
};

typedef enum { FILL_RANDOM, FILL_TIES, FILL_EXTREME, FILL_BOUNDS, FILL_COUNT } fill_mode;

static float gen_x(fill_mode f, const qparams* p) {
  const float range = p->scale * (float)(p->qmax - p->qmin);
  switch (f) {
    case FILL_TIES: /* (j + 1/2) * scale: exact ties for power-of-two scales */
      return ((float)qb_rand_range(-300, 300) + 0.5f) * p->scale;
    case FILL_EXTREME: {
      /* NaN quantizes to qmin everywhere (the reference's defined rule, issue 12). */
      static const float v[] = {1e30f, -1e30f, FLT_MAX, -FLT_MAX, 0.0f, -0.0f, 1e-40f, -1e-40f,
                                FLT_MIN, 1e6f, -1e6f, 65536.5f, NAN, INFINITY, -INFINITY};
      return v[qb_rand_below(sizeof v / sizeof v[0])];
    }
    case FILL_BOUNDS: { /* exactly on, or one ulp around, the clamp boundaries */
      const float b = (float)((qb_rand_below(2) ? p->qmax : p->qmin) - p->zero_point) * p->scale;
      const int d = qb_rand_range(-1, 1);
      return d == 0 ? b : nextafterf(b, d > 0 ? INFINITY : -INFINITY);
    }
    default:
      return qb_rand_normal() * range * 0.4f;
  }
}

static int printed = 0;

static void check_quantize(const qb_f32_q8_quantize_entry* e, bool is_signed, size_t n,
                           const qparams* p, qb_round_mode mode, fill_mode f) {
  qb_tail_buf tb;
  float* x = qb_tail_alloc(&tb, n * sizeof(float));
  for (size_t i = 0; i < n; i++) x[i] = gen_x(f, p);
  uint8_t* ref = malloc(n + 1);
  uint8_t* got = qb_guard_alloc(n);
  if (is_signed) {
    qb_f32_qs8_quantize__scalar(n, x, p->scale, p->zero_point, p->qmin, p->qmax, mode, (int8_t*)ref);
    e->f32_qs8(n, x, p->scale, p->zero_point, p->qmin, p->qmax, mode, (int8_t*)got);
  } else {
    qb_f32_qu8_quantize__scalar(n, x, p->scale, p->zero_point, p->qmin, p->qmax, mode, ref);
    e->f32_qu8(n, x, p->scale, p->zero_point, p->qmin, p->qmax, mode, got);
  }
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; i++)
    if (got[i] != ref[i] && bad++ == 0) first = i;
  QB_CHECK_MSG(bad == 0, "%s %s n=%zu scale=%.9g zp=%d [%d,%d] mode=%d fill=%d: %zu differ, "
               "first x[%zu]=%.9g got %d expected %d", e->info.name, is_signed ? "qs8" : "qu8", n,
               (double)p->scale, p->zero_point, p->qmin, p->qmax, (int)mode, (int)f, bad, first,
               bad ? (double)x[first] : 0.0, bad ? got[first] : 0, bad ? ref[first] : 0);
  qb_guard_check(got, n, "quantize output");
  if (bad && ++printed > 20) exit(qb_test_finish("test_quantize_exact"));
  qb_guard_free(got);
  free(ref);
  qb_tail_free(&tb);
}

static void run_quantize(const qb_f32_q8_quantize_entry* e) {
  for (int s = 0; s < 2; s++) {
    const qparams* ps = s ? qu8_params : qs8_params;
    const size_t np = s ? sizeof qu8_params / sizeof qu8_params[0]
                        : sizeof qs8_params / sizeof qs8_params[0];
    for (size_t ip = 0; ip < np; ip++)
      for (int mode = 0; mode < 2; mode++)
        for (int f = 0; f < FILL_COUNT; f++) {
          for (size_t t = 0; t < QB_TAIL_SIZES_COUNT; t++)
            check_quantize(e, s == 0, qb_tail_sizes[t], &ps[ip], (qb_round_mode)mode, (fill_mode)f);
          check_quantize(e, s == 0, 1 + qb_rand_below(3000), &ps[ip], (qb_round_mode)mode,
                         (fill_mode)f);
        }
  }
}

static void check_dequantize(const qb_q8_f32_dequantize_entry* e, bool is_signed, size_t n,
                             float scale, int32_t zp) {
  qb_tail_buf tb;
  uint8_t* q = qb_tail_alloc(&tb, n);
  for (size_t i = 0; i < n; i++) q[i] = (uint8_t)(i < 256 ? i : qb_rand_below(256));
  float* ref = malloc((n + 1) * sizeof(float));
  float* got = qb_guard_alloc(n * sizeof(float));
  if (is_signed) {
    qb_qs8_f32_dequantize__scalar(n, (const int8_t*)q, scale, zp, ref);
    e->qs8_f32(n, (const int8_t*)q, scale, zp, got);
  } else {
    qb_qu8_f32_dequantize__scalar(n, q, scale, zp, ref);
    e->qu8_f32(n, q, scale, zp, got);
  }
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; i++)
    if (memcmp(&got[i], &ref[i], sizeof(float)) != 0 && bad++ == 0) first = i;
  QB_CHECK_MSG(bad == 0, "%s %s n=%zu scale=%.9g zp=%d: %zu differ, first [%zu] got %.9g expected %.9g",
               e->info.name, is_signed ? "qs8" : "qu8", n, (double)scale, zp, bad, first,
               bad ? (double)got[first] : 0.0, bad ? (double)ref[first] : 0.0);
  qb_guard_check(got, n * sizeof(float), "dequantize output");
  qb_guard_free(got);
  free(ref);
  qb_tail_free(&tb);
}

static void run_dequantize(const qb_q8_f32_dequantize_entry* e) {
  static const int32_t zps[] = {0, 18, 75, 128, 157, 231, 255};
  static const float scales[] = {0.1f, 1.0f / 255.0f, 3.7e-3f, 1e30f, 1e-40f, 1.0f};
  for (int s = 0; s < 2; s++)
    for (size_t z = 0; z < 7; z++)
      for (size_t sc = 0; sc < sizeof scales / sizeof scales[0]; sc++) {
        const int32_t zp = s == 0 ? zps[z] - 128 : zps[z];
        for (size_t t = 0; t < QB_TAIL_SIZES_COUNT; t++)
          check_dequantize(e, s == 0, qb_tail_sizes[t], scales[sc], zp);
        check_dequantize(e, s == 0, 256 + qb_rand_below(2000), scales[sc], zp);
      }
}

static const qb_kernel_info* table_quantize(const qb_dispatch_table* t) { return &t->f32_q8_quantize->info; }
static const qb_kernel_info* table_dequantize(const qb_dispatch_table* t) { return &t->q8_f32_dequantize->info; }

int main(void) {
  qb_test_seed(20261201);
  size_t nq, nd;
  const qb_f32_q8_quantize_entry* q = qb_f32_q8_quantize_entries(&nq);
  const qb_q8_f32_dequantize_entry* d = qb_q8_f32_dequantize_entries(&nd);
  qb_check_family_list("quantize", q, nq, sizeof q[0], table_quantize);
  qb_check_family_list("dequantize", d, nd, sizeof d[0], table_dequantize);
  size_t simd = 0;
  for (size_t i = 0; i < nq; i++)
    if (qb_entry_usable(&q[i].info)) {
      run_quantize(&q[i]);
      simd += q[i].info.backend != QB_BACKEND_SCALAR;
    }
  for (size_t i = 0; i < nd; i++)
    if (qb_entry_usable(&d[i].info)) run_dequantize(&d[i]);
  const int status = qb_test_finish("test_quantize_exact");
  if (status == 0 && simd == 0) qb_test_skip("no SIMD backend usable: only the scalar entries ran");
  return status;
}
