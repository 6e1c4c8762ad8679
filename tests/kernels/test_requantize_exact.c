/* Exactness of every requantization kernel (qs32 -> qs8 / qu8; fp32 and gemmlowp
 * paths) in the dispatch lists against the scalar reference, bit for bit: M and N
 * over the tail sizes of each vector width, row strides with gaps (checked
 * untouched), bias absent / random / extreme (int32 wrap), accumulators random,
 * small (many rounding ties), at the int32 extremes, exact fp32 ties; per-channel
 * scales and fixed-point multipliers over every shift -31..30, the SRDHM overflow
 * case (INT32_MIN x INT32_MIN), zero-point sweeps (gemmlowp also at the int32
 * extremes) and narrow output ranges. The accumulators end at an inaccessible page;
 * outputs have 0xA5 guard bytes. */
#include <math.h>
#include <stdio.h>

#include "qb_exact_util.h"
#include "qb_kernels.h"

typedef enum { ACC_RANDOM, ACC_SMALL, ACC_EXTREME, ACC_TIES, ACC_COUNT } acc_fill;
typedef enum { PATH_FP32, PATH_GEMMLOWP } path;

typedef struct {
  size_t M, N, ldacc, ldy;
  bool is_signed, with_bias;
  int32_t zp, qmin, qmax;
  acc_fill fill;
} shape;

static int32_t gen_acc(acc_fill f) {
  switch (f) {
    case ACC_SMALL: return qb_rand_range(-3000, 3000);
    case ACC_EXTREME: {
      static const int32_t v[] = {INT32_MIN, INT32_MAX, INT32_MIN + 1, INT32_MAX - 1, 0, -1, 1,
                                  1 << 24, (1 << 24) + 1, -(1 << 24) - 3};
      return v[qb_rand_below(sizeof v / sizeof v[0])];
    }
    case ACC_TIES: return 2 * qb_rand_range(-600, 600) + 1; /* odd: x.5 at scale 1/2 */
    default: return (int32_t)(uint32_t)qb_rand_u64();
  }
}

static void fill_scales(float* scale, size_t N, acc_fill f) {
  for (size_t n = 0; n < N; n++)
    scale[n] = f == ACC_TIES ? ldexpf(1.0f, -(int)qb_rand_range(1, 4))
                             : expf(qb_rand_uniform(logf(1e-9f), logf(2.0f)));
}

static void fill_multipliers(qb_fixedpoint_multiplier* m, size_t N) {
  for (size_t n = 0; n < N; n++) {
    const uint32_t kind = qb_rand_below(16);
    if (kind == 0) {
      m[n] = (qb_fixedpoint_multiplier){0, 0};
    } else if (kind == 1) { /* outside the encoder's range: SRDHM's overflow lane */
      m[n] = (qb_fixedpoint_multiplier){INT32_MIN, qb_rand_range(-3, 0)};
    } else if (kind == 2) { /* shift extremes */
      m[n] = (qb_fixedpoint_multiplier){qb_rand_range(1 << 30, INT32_MAX), qb_rand_below(2) ? 30 : -31};
    } else if (kind < 6) { /* multiplier 2^30 (0.5): many exact ties */
      m[n] = (qb_fixedpoint_multiplier){1 << 30, qb_rand_range(-8, 1)};
    } else {
      m[n] = qb_fixedpoint_multiplier_from_double(ldexp(qb_rand_uniform(0.5f, 1.0f), qb_rand_range(-31, 30)));
    }
  }
}

static int printed = 0;

static void check_shape(path p, const void* entry, const qb_kernel_info* info, const shape* s) {
  const size_t M = s->M, N = s->N;
  const size_t acc_elems = M ? (M - 1) * s->ldacc + N : 0, y_bytes = M ? (M - 1) * s->ldy + N : 0;
  qb_tail_buf tb;
  int32_t* acc = qb_tail_alloc(&tb, acc_elems * sizeof(int32_t));
  for (size_t i = 0; i < acc_elems; i++) acc[i] = gen_acc(s->fill);
  if (s->fill == ACC_EXTREME)
    for (size_t i = 0; i < acc_elems; i += 3) acc[i] = INT32_MIN; /* SRDHM(INT32_MIN, INT32_MIN) */
  int32_t* bias = malloc((N + 1) * sizeof(int32_t));
  for (size_t n = 0; n < N; n++) bias[n] = s->fill == ACC_EXTREME ? gen_acc(ACC_EXTREME) : qb_rand_range(-100000, 100000);
  if (s->fill == ACC_EXTREME)
    for (size_t n = 0; n < N; n += 2) bias[n] = 0;
  float* scale = malloc((N + 1) * sizeof(float));
  qb_fixedpoint_multiplier* mult = malloc((N + 1) * sizeof(qb_fixedpoint_multiplier));
  fill_scales(scale, N, s->fill);
  fill_multipliers(mult, N);
  const int32_t* b = s->with_bias ? bias : NULL;

  uint8_t* ref = malloc(y_bytes + 1);
  memset(ref, 0xA5, y_bytes);
  uint8_t* got = qb_guard_alloc(y_bytes);
  if (p == PATH_FP32) {
    const qb_qs32_q8_requantize_fp32_entry* e = entry;
    if (s->is_signed) {
      qb_qs32_qs8_requantize_fp32__scalar(M, N, acc, s->ldacc, b, scale, s->zp, s->qmin, s->qmax, (int8_t*)ref, s->ldy);
      e->qs32_qs8(M, N, acc, s->ldacc, b, scale, s->zp, s->qmin, s->qmax, (int8_t*)got, s->ldy);
    } else {
      qb_qs32_qu8_requantize_fp32__scalar(M, N, acc, s->ldacc, b, scale, s->zp, s->qmin, s->qmax, ref, s->ldy);
      e->qs32_qu8(M, N, acc, s->ldacc, b, scale, s->zp, s->qmin, s->qmax, got, s->ldy);
    }
  } else {
    const qb_qs32_q8_requantize_gemmlowp_entry* e = entry;
    if (s->is_signed) {
      qb_qs32_qs8_requantize_gemmlowp__scalar(M, N, acc, s->ldacc, b, mult, s->zp, s->qmin, s->qmax, (int8_t*)ref, s->ldy);
      e->qs32_qs8(M, N, acc, s->ldacc, b, mult, s->zp, s->qmin, s->qmax, (int8_t*)got, s->ldy);
    } else {
      qb_qs32_qu8_requantize_gemmlowp__scalar(M, N, acc, s->ldacc, b, mult, s->zp, s->qmin, s->qmax, ref, s->ldy);
      e->qs32_qu8(M, N, acc, s->ldacc, b, mult, s->zp, s->qmin, s->qmax, got, s->ldy);
    }
  }
  /* Gaps between rows (ldy > N) must keep their 0xA5, like the reference's copy. */
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < y_bytes; i++)
    if (got[i] != ref[i] && bad++ == 0) first = i;
  QB_CHECK_MSG(bad == 0, "%s %s M=%zu N=%zu ldacc=%zu ldy=%zu bias=%d zp=%d [%d,%d] fill=%d: %zu differ, "
               "first y[%zu][%zu] got %d expected %d", info->name, s->is_signed ? "qs8" : "qu8", M, N,
               s->ldacc, s->ldy, (int)s->with_bias, s->zp, s->qmin, s->qmax, (int)s->fill, bad,
               bad ? first / s->ldy : 0, bad ? first % s->ldy : 0, bad ? got[first] : 0, bad ? ref[first] : 0);
  qb_guard_check(got, y_bytes, "requantize output");
  if (bad && ++printed > 20) exit(qb_test_finish("test_requantize_exact"));
  qb_guard_free(got);
  free(ref);
  free(mult);
  free(scale);
  free(bias);
  qb_tail_free(&tb);
}

static const size_t dims[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65};
#define NDIMS (sizeof dims / sizeof dims[0])
static const int32_t zp_sweep[] = {0, 18, 75, 128, 157, 231, 255};

static void run_entry(path p, const void* entry, const qb_kernel_info* info) {
  size_t sweep = 0;
  for (size_t im = 0; im < NDIMS; im += 3)
    for (size_t in = 0; in < NDIMS; in++)
      for (int f = 0; f < ACC_COUNT; f++, sweep++) {
        const bool is_signed = sweep % 2 == 0, strided = sweep % 3 == 1;
        const int32_t z = zp_sweep[sweep % 7];
        shape s = {dims[im], dims[in], dims[in] + (strided ? 3 : 0), dims[in] + (strided ? 5 : 0),
                   is_signed, sweep % 4 != 3, is_signed ? z - 128 : z,
                   is_signed ? -128 : 0, is_signed ? 127 : 255, (acc_fill)f};
        if (sweep % 5 == 2) s.qmin = is_signed ? -8 : 0, s.qmax = is_signed ? 7 : 15;
        if (sweep % 5 == 4) s.qmin = is_signed ? -127 : 1, s.qmax = is_signed ? 127 : 254;
        check_shape(p, entry, info, &s);
      }
  /* Several tables of block constants (QB_REQUANTIZE_CHUNK = 256 channels) and a
   * partial block in the last one, strided rows. */
  for (int f = 0; f < ACC_COUNT; f++) {
    shape s = {5, 525, 531, 529, f % 2 == 0, f != 1, f % 2 == 0 ? -3 : 131, f % 2 == 0 ? -128 : 0,
               f % 2 == 0 ? 127 : 255, (acc_fill)f};
    check_shape(p, entry, info, &s);
  }
  /* Zero dims. */
  shape s0 = {0, 7, 7, 7, true, true, 0, -128, 127, ACC_RANDOM};
  check_shape(p, entry, info, &s0);
  s0.M = 5, s0.N = 0;
  check_shape(p, entry, info, &s0);
  /* Zero points at the int32 extremes (the gemmlowp reference clamps in int64). */
  if (p == PATH_GEMMLOWP) {
    static const int32_t zx[] = {INT32_MIN, INT32_MIN + 200, INT32_MAX, INT32_MAX - 300, 1 << 30, -(1 << 30)};
    for (size_t i = 0; i < sizeof zx / sizeof zx[0]; i++)
      for (int f = 0; f < ACC_COUNT; f++) {
        shape s = {3, 37, 37, 40, i % 2 == 0, true, zx[i], i % 2 ? 0 : -128, i % 2 ? 255 : 127, (acc_fill)f};
        check_shape(p, entry, info, &s);
      }
  }
  /* Random shapes. */
  for (int r = 0; r < 80; r++) {
    const bool is_signed = qb_rand_below(2);
    const size_t M = 1 + qb_rand_below(40), N = 1 + qb_rand_below(r % 4 == 0 ? 700 : 100);
    const int32_t z = zp_sweep[qb_rand_below(7)];
    shape s = {M, N, N + qb_rand_below(9), N + qb_rand_below(9), is_signed, qb_rand_below(4) != 0,
               is_signed ? z - 128 : z, is_signed ? -128 : 0, is_signed ? 127 : 255,
               (acc_fill)qb_rand_below(ACC_COUNT)};
    check_shape(p, entry, info, &s);
  }
}

static const qb_kernel_info* table_fp32(const qb_dispatch_table* t) { return &t->qs32_q8_requantize_fp32->info; }
static const qb_kernel_info* table_gemmlowp(const qb_dispatch_table* t) { return &t->qs32_q8_requantize_gemmlowp->info; }

int main(void) {
  qb_test_seed(20261202);
  size_t nf, ng, simd = 0;
  const qb_qs32_q8_requantize_fp32_entry* f = qb_qs32_q8_requantize_fp32_entries(&nf);
  const qb_qs32_q8_requantize_gemmlowp_entry* g = qb_qs32_q8_requantize_gemmlowp_entries(&ng);
  qb_check_family_list("requantize_fp32", f, nf, sizeof f[0], table_fp32);
  qb_check_family_list("requantize_gemmlowp", g, ng, sizeof g[0], table_gemmlowp);
  for (size_t i = 0; i < nf; i++)
    if (qb_entry_usable(&f[i].info)) {
      run_entry(PATH_FP32, &f[i], &f[i].info);
      simd += f[i].info.backend != QB_BACKEND_SCALAR;
    }
  for (size_t i = 0; i < ng; i++)
    if (qb_entry_usable(&g[i].info)) run_entry(PATH_GEMMLOWP, &g[i], &g[i].info);
  const int status = qb_test_finish("test_requantize_exact");
  if (status == 0 && simd == 0) qb_test_skip("no SIMD backend usable: only the scalar entries ran");
  return status;
}
