/* Scalar reference int8 GEMMs (kernels/ref/gemm__scalar.c):
 *
 *   C[m][n] = sum_k (A[m][k] - za) * (B[n][k] - zb[n])     A: M x K, B: N x K, C int32
 *
 * checked against hand-worked 2x2x3 cases for each type combination, and against
 * gemmlowp's offset decomposition computed independently in int64
 *
 *   C = sum_k A*B - zb[n] * rowsum_A[m] - za * colsum_B[n] + K * za * zb[n]
 *
 * over every (M, N, K) of the tail set, with prime row paddings, zero-point sweeps,
 * all-extreme data, zero dims and the largest K that stays in int32. C lives in a
 * guarded buffer pre-filled with 0xA5: the gaps between rows (ldc > N) must stay
 * untouched too. */
#include <stdlib.h>
#include <string.h>

#include "qb_kernels.h"
#include "qb_test.h"

typedef enum { QU8_QS8, QS8_QS8, QU8_QU8, COMBOS } combo;
static const char* const combo_name[COMBOS] = {"qu8_qs8", "qs8_qs8", "qu8_qu8"};
static const int32_t a_lo[COMBOS] = {0, -128, 0}, a_hi[COMBOS] = {255, 127, 255};
static const int32_t b_lo[COMBOS] = {-128, -128, 0}, b_hi[COMBOS] = {127, 127, 255};

static const int32_t u8_zps[] = {0, 18, 75, 128, 157, 231, 255};
static const int32_t s8_zps[] = {-128, -110, -53, 0, 29, 103, 127};

#define GUARD_WORD ((int32_t)0xA5A5A5A5)

/* Runs the kernel of `c` on int32-held operands (A: M x lda, B: N x ldb), storing
 * them in the kernel's element types first. C must be a guarded buffer. */
static void run_gemm(combo c, size_t M, size_t N, size_t K, const int32_t* A, size_t lda,
                     int32_t za, const int32_t* B, size_t ldb, const int32_t* zb, int32_t* C,
                     size_t ldc) {
  const size_t asz = M * lda, bsz = N * ldb;
  /* exactly sized copies (the last row is padded too, which keeps this simple) */
  void* a = malloc(asz ? asz : 1);
  void* b = malloc(bsz ? bsz : 1);
  for (size_t i = 0; i < asz; i++) {
    if (a_lo[c] < 0) ((int8_t*)a)[i] = (int8_t)A[i];
    else ((uint8_t*)a)[i] = (uint8_t)A[i];
  }
  for (size_t i = 0; i < bsz; i++) {
    if (b_lo[c] < 0) ((int8_t*)b)[i] = (int8_t)B[i];
    else ((uint8_t*)b)[i] = (uint8_t)B[i];
  }
  switch (c) {
    case QU8_QS8: qb_qu8_qs8_qs32_gemm__scalar(M, N, K, a, lda, za, b, ldb, zb, C, ldc); break;
    case QS8_QS8: qb_qs8_qs8_qs32_gemm__scalar(M, N, K, a, lda, za, b, ldb, zb, C, ldc); break;
    default: qb_qu8_qu8_qs32_gemm__scalar(M, N, K, a, lda, za, b, ldb, zb, C, ldc); break;
  }
  free(a);
  free(b);
}

/* gemmlowp decomposition in int64, from raw sums only (no zero point inside a sum). */
static int64_t decomposed(size_t K, const int32_t* Arow, int32_t za, const int32_t* Brow,
                          int32_t zb) {
  int64_t ab = 0, rowsum_a = 0, colsum_b = 0;
  for (size_t k = 0; k < K; k++) {
    ab += (int64_t)Arow[k] * Brow[k];
    rowsum_a += Arow[k];
    colsum_b += Brow[k];
  }
  return ab - (int64_t)zb * rowsum_a - (int64_t)za * colsum_b + (int64_t)K * za * zb;
}

/* Hand-worked 2x2x3 cases, one per combination (K = 3, lda = ldb = 3, ldc = 2). */
static void test_hand(void) {
  int32_t* C = qb_guard_alloc(4 * sizeof(int32_t));
  {
    /* qu8 x qs8. A = [[255, 0, 128], [7, 200, 13]], za = 128 -> A - za =
     * [[127, -128, 0], [-121, 72, -115]]. B = [[-128, 127, 5], [3, -7, 100]],
     * zb = {-1, 2} -> B - zb = [[-127, 128, 6], [1, -9, 98]].
     * C00 = 127*-127 + -128*128 + 0*6        = -16129 - 16384         = -32513
     * C01 = 127*1 + -128*-9 + 0*98           = 127 + 1152             =   1279
     * C10 = -121*-127 + 72*128 + -115*6      = 15367 + 9216 - 690     =  23893
     * C11 = -121*1 + 72*-9 + -115*98         = -121 - 648 - 11270     = -12039 */
    const uint8_t A[6] = {255, 0, 128, 7, 200, 13};
    const int8_t B[6] = {-128, 127, 5, 3, -7, 100};
    const int32_t zb[2] = {-1, 2};
    qb_qu8_qs8_qs32_gemm__scalar(2, 2, 3, A, 3, 128, B, 3, zb, C, 2);
    QB_CHECK_EQ_INT(C[0], -32513);
    QB_CHECK_EQ_INT(C[1], 1279);
    QB_CHECK_EQ_INT(C[2], 23893);
    QB_CHECK_EQ_INT(C[3], -12039);
  }
  {
    /* qs8 x qs8. A = [[-128, 127, 0], [5, -6, 7]], za = -3 -> [[-125, 130, 3], [8, -3, 10]].
     * B = [[127, -128, 1], [-2, 3, -4]], zb = {0, 5} -> [[127, -128, 1], [-7, -2, -9]].
     * C00 = -125*127 + 130*-128 + 3*1        = -15875 - 16640 + 3     = -32512
     * C01 = -125*-7 + 130*-2 + 3*-9          = 875 - 260 - 27         =    588
     * C10 = 8*127 + -3*-128 + 10*1           = 1016 + 384 + 10        =   1410
     * C11 = 8*-7 + -3*-2 + 10*-9             = -56 + 6 - 90           =   -140 */
    const int8_t A[6] = {-128, 127, 0, 5, -6, 7};
    const int8_t B[6] = {127, -128, 1, -2, 3, -4};
    const int32_t zb[2] = {0, 5};
    qb_qs8_qs8_qs32_gemm__scalar(2, 2, 3, A, 3, -3, B, 3, zb, C, 2);
    QB_CHECK_EQ_INT(C[0], -32512);
    QB_CHECK_EQ_INT(C[1], 588);
    QB_CHECK_EQ_INT(C[2], 1410);
    QB_CHECK_EQ_INT(C[3], -140);
  }
  {
    /* qu8 x qu8. A = [[0, 255, 10], [100, 1, 2]], za = 1 -> [[-1, 254, 9], [99, 0, 1]].
     * B = [[255, 0, 128], [9, 8, 7]], zb = {128, 0} -> [[127, -128, 0], [9, 8, 7]].
     * C00 = -1*127 + 254*-128 + 9*0          = -127 - 32512           = -32639
     * C01 = -1*9 + 254*8 + 9*7               = -9 + 2032 + 63         =   2086
     * C10 = 99*127 + 0*-128 + 1*0            =                          12573
     * C11 = 99*9 + 0*8 + 1*7                 = 891 + 7                =    898 */
    const uint8_t A[6] = {0, 255, 10, 100, 1, 2};
    const uint8_t B[6] = {255, 0, 128, 9, 8, 7};
    const int32_t zb[2] = {128, 0};
    qb_qu8_qu8_qs32_gemm__scalar(2, 2, 3, A, 3, 1, B, 3, zb, C, 2);
    QB_CHECK_EQ_INT(C[0], -32639);
    QB_CHECK_EQ_INT(C[1], 2086);
    QB_CHECK_EQ_INT(C[2], 12573);
    QB_CHECK_EQ_INT(C[3], 898);
  }
  qb_guard_check(C, 4 * sizeof(int32_t), "hand-worked C");
  qb_guard_free(C);
}

typedef enum { DATA_UNIFORM, DATA_EXTREME, DATA_CONST_MAX, DATA_CONST_MIN } data_mode;

static int32_t draw(int32_t lo, int32_t hi, data_mode mode) {
  switch (mode) {
    case DATA_EXTREME: return qb_rand_below(2) ? lo : hi;
    case DATA_CONST_MAX: return hi;
    case DATA_CONST_MIN: return lo;
    default: return qb_rand_range(lo, hi);
  }
}

/* One random problem: fill operands (padding columns too, with junk that must not be
 * read into the result), run, compare every C entry with the decomposition, check
 * that row gaps and guards are 0xA5. Returns the number of mismatches. */
static int check_case(combo c, size_t M, size_t N, size_t K, size_t lda, size_t ldb, size_t ldc,
                      int32_t za, const int32_t* zb, data_mode mode) {
  int32_t* A = malloc((M * lda + 1) * sizeof(int32_t));
  int32_t* B = malloc((N * ldb + 1) * sizeof(int32_t));
  for (size_t i = 0; i < M * lda; i++) A[i] = draw(a_lo[c], a_hi[c], mode);
  for (size_t i = 0; i < N * ldb; i++) B[i] = draw(b_lo[c], b_hi[c], mode);
  const size_t cwords = M * ldc;
  int32_t* C = qb_guard_alloc(cwords * sizeof(int32_t));
  run_gemm(c, M, N, K, A, lda, za, B, ldb, zb, C, ldc);
  int bad = 0;
  for (size_t m = 0; m < M; m++)
    for (size_t n = 0; n < ldc; n++) {
      const int32_t got = C[m * ldc + n];
      if (n >= N) {
        if (got != GUARD_WORD) bad++;
        continue;
      }
      const int64_t want = decomposed(K, A + m * lda, za, B + n * ldb, zb[n]);
      if (got != want) {
        if (bad < 5)
          fprintf(stderr, "%s M=%zu N=%zu K=%zu lda=%zu ldb=%zu ldc=%zu za=%d zb=%d: C[%zu][%zu] = %d, want %lld\n",
                  combo_name[c], M, N, K, lda, ldb, ldc, za, zb[n], m, n, got, (long long)want);
        bad++;
      }
    }
  if (qb_guard_check(C, cwords * sizeof(int32_t), "C") != 0)
    fprintf(stderr, "  (%s M=%zu N=%zu K=%zu)\n", combo_name[c], M, N, K);
  qb_guard_free(C);
  free(A);
  free(B);
  return bad;
}

static const size_t tails[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 63, 64, 65};
static const size_t primes[] = {0, 1, 3, 5, 7, 11, 13};
#define NTAILS (sizeof tails / sizeof tails[0])

static int32_t pick_zp(int32_t lo) { return lo < 0 ? s8_zps[qb_rand_below(7)] : u8_zps[qb_rand_below(7)]; }

/* Every (M, N, K) of the tail set, random data, random zero points from the sweep
 * (per-channel zb), random prime paddings on all three strides. */
static void test_tail_shapes(void) {
  int32_t zb[65];
  for (int c = 0; c < COMBOS; c++) {
    int bad = 0;
    for (size_t mi = 0; mi < NTAILS; mi++)
      for (size_t ni = 0; ni < NTAILS; ni++)
        for (size_t ki = 0; ki < NTAILS; ki++) {
          const size_t M = tails[mi], N = tails[ni], K = tails[ki];
          const size_t lda = K + primes[qb_rand_below(7)];
          const size_t ldb = K + primes[qb_rand_below(7)];
          const size_t ldc = N + primes[qb_rand_below(7)];
          const int32_t za = pick_zp(a_lo[c]);
          for (size_t n = 0; n < N; n++) zb[n] = pick_zp(b_lo[c]);
          bad += check_case((combo)c, M, N, K, lda, ldb, ldc, za, zb,
                            qb_rand_below(4) ? DATA_UNIFORM : DATA_EXTREME);
        }
    QB_CHECK_MSG(bad == 0, "%s tail shapes: %d mismatches", combo_name[c], bad);
  }
}

/* Full zero-point sweep (za x per-tensor zb) on a fixed odd shape with strides,
 * uniform and extreme data. */
static void test_zero_point_sweep(void) {
  int32_t zb[17];
  for (int c = 0; c < COMBOS; c++) {
    int bad = 0;
    for (int i = 0; i < 7; i++)
      for (int j = 0; j < 7; j++) {
        const int32_t za = a_lo[c] < 0 ? s8_zps[i] : u8_zps[i];
        for (size_t n = 0; n < 17; n++) zb[n] = b_lo[c] < 0 ? s8_zps[j] : u8_zps[j];
        bad += check_case((combo)c, 5, 17, 33, 33 + 7, 33 + 2, 17 + 3, za, zb, DATA_UNIFORM);
        bad += check_case((combo)c, 3, 17, 31, 31, 31, 17, za, zb, DATA_EXTREME);
      }
    QB_CHECK_MSG(bad == 0, "%s zero-point sweep: %d mismatches", combo_name[c], bad);
  }
}

/* M = 0 or N = 0: nothing written. K = 0: every C entry is 0 (an empty sum),
 * row gaps untouched. */
static void test_zero_dims(void) {
  const int32_t zb[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  int32_t A[64], B[64];
  for (int i = 0; i < 64; i++) A[i] = B[i] = 7;
  for (int c = 0; c < COMBOS; c++) {
    int32_t* C = qb_guard_alloc(8 * 11 * sizeof(int32_t));
    run_gemm((combo)c, 0, 8, 5, A, 5, 3, B, 5, zb, C, 11);
    run_gemm((combo)c, 8, 0, 5, A, 5, 3, B, 5, zb, C, 11);
    run_gemm((combo)c, 0, 0, 0, A, 5, 3, B, 5, zb, C, 11);
    for (size_t i = 0; i < 8 * 11; i++) QB_CHECK_EQ_INT(C[i], GUARD_WORD);
    /* K = 0 with strides still > 0 */
    run_gemm((combo)c, 7, 8, 0, A, 3, 3, B, 2, zb, C, 11);
    for (size_t m = 0; m < 7; m++)
      for (size_t n = 0; n < 11; n++)
        QB_CHECK_EQ_INT(C[m * 11 + n], n < 8 ? 0 : GUARD_WORD);
    for (size_t n = 0; n < 11; n++) QB_CHECK_EQ_INT(C[7 * 11 + n], GUARD_WORD);
    qb_guard_check(C, 8 * 11 * sizeof(int32_t), "zero-dim C");
    qb_guard_free(C);
  }
}

/* All-extreme constant operands with the largest K that keeps |C| <= 2^31 - 1:
 * |A - za| = |B - zb| = 255, so each product is +-65025 and
 * K = 33025 -> 33025 * 65025 = 2147450625 <= 2147483647 (33026 would overflow).
 * Each pairing (sign of both differences) is hand-set so the expected value is
 * exactly +-2147450625 and the decomposition agrees. */
static void test_extremes_max_k(void) {
  const size_t K = 33025;
  QB_CHECK((int64_t)K * 65025 <= INT32_MAX);
  QB_CHECK((int64_t)(K + 1) * 65025 > INT32_MAX);
  static const struct {
    combo c;
    data_mode a_mode, b_mode; /* A all max / all min, B all max / all min */
    int32_t za, zb;
    int64_t want;
  } cases[] = {
      /* qu8 x qs8: A = 255, za = 0 (+255); B = -128, zb = 127 (-255): -65025 per k */
      {QU8_QS8, DATA_CONST_MAX, DATA_CONST_MIN, 0, 127, -2147450625LL},
      /* A = 0, za = 255 (-255); B = -128, zb = 127 (-255): +65025 */
      {QU8_QS8, DATA_CONST_MIN, DATA_CONST_MIN, 255, 127, 2147450625LL},
      /* A = 255, za = 0; B = 127, zb = -128 (+255): +65025 */
      {QU8_QS8, DATA_CONST_MAX, DATA_CONST_MAX, 0, -128, 2147450625LL},
      /* A = 0, za = 255; B = 127, zb = -128: -65025 */
      {QU8_QS8, DATA_CONST_MIN, DATA_CONST_MAX, 255, -128, -2147450625LL},
      /* qs8 x qs8: A = -128, za = 127 (-255); B = 127, zb = -128 (+255) */
      {QS8_QS8, DATA_CONST_MIN, DATA_CONST_MAX, 127, -128, -2147450625LL},
      {QS8_QS8, DATA_CONST_MAX, DATA_CONST_MAX, -128, -128, 2147450625LL},
      /* qu8 x qu8: A = 255, za = 0; B = 0, zb = 255 (-255) */
      {QU8_QU8, DATA_CONST_MAX, DATA_CONST_MIN, 0, 255, -2147450625LL},
      {QU8_QU8, DATA_CONST_MIN, DATA_CONST_MIN, 255, 255, 2147450625LL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const combo c = cases[i].c;
    const size_t M = 2, N = 3, ld = K + 1;
    int32_t* A = malloc(M * ld * sizeof(int32_t));
    int32_t* B = malloc(N * ld * sizeof(int32_t));
    for (size_t j = 0; j < M * ld; j++) A[j] = draw(a_lo[c], a_hi[c], cases[i].a_mode);
    for (size_t j = 0; j < N * ld; j++) B[j] = draw(b_lo[c], b_hi[c], cases[i].b_mode);
    const int32_t zb[3] = {cases[i].zb, cases[i].zb, cases[i].zb};
    int32_t* C = qb_guard_alloc(M * N * sizeof(int32_t));
    run_gemm(c, M, N, K, A, ld, cases[i].za, B, ld, zb, C, N);
    for (size_t j = 0; j < M * N; j++) {
      QB_CHECK_MSG(C[j] == cases[i].want, "%s extreme case %zu: %d", combo_name[c], i, C[j]);
      QB_CHECK(decomposed(K, A, cases[i].za, B, zb[0]) == cases[i].want);
    }
    qb_guard_check(C, M * N * sizeof(int32_t), "extreme C");
    qb_guard_free(C);
    free(A);
    free(B);
  }
}

/* A few large random shapes beyond the tail set (still cheap). */
static void test_random_shapes(void) {
  int32_t zb[200];
  for (int it = 0; it < 30; it++) {
    const combo c = (combo)qb_rand_below(COMBOS);
    const size_t M = 1 + qb_rand_below(40), N = 1 + qb_rand_below(200), K = 1 + qb_rand_below(700);
    const int32_t za = qb_rand_range(a_lo[c], a_hi[c]);
    for (size_t n = 0; n < N; n++) zb[n] = qb_rand_range(b_lo[c], b_hi[c]);
    const int bad = check_case(c, M, N, K, K + primes[qb_rand_below(7)], K + primes[qb_rand_below(7)],
                               N + primes[qb_rand_below(7)], za, zb, (data_mode)qb_rand_below(2));
    QB_CHECK_MSG(bad == 0, "%s random M=%zu N=%zu K=%zu: %d mismatches", combo_name[c], M, N, K, bad);
  }
}

int main(void) {
  qb_test_seed(777);
  test_hand();
  test_tail_shapes();
  test_zero_point_sweep();
  test_zero_dims();
  test_extremes_max_k();
  test_random_shapes();
  return qb_test_finish("test_ref_gemm");
}
