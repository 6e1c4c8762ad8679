/* fp32 GEMM family (kernels/f32-gemm):
 *  1. the reference qb_f32_gemm__scalar against the exact dot product (double: the
 *     products of two floats are exact there) within the error bound of recursive
 *     summation with one rounding per term,
 *         |C - exact| <= gamma_K * sum_k |A[i][k] B[k][j]| + K * 2^-149,
 *         gamma_K = K u / (1 - K u), u = 2^-24,
 *     (the 2^-149 term covers subnormal partial sums; the double sum's own error,
 *     2^-29 of gamma_K, sits in a 1 % margin); the naive mul + add order the fp32
 *     ops used before obeys the same bound, so the two differ by at most twice it;
 *  2. every usable microkernel of the list (and its GEMV tile for M = 1), through a
 *     tile loop with the panels the entry's NR asks for, bit-identical to the reference (every kernel is the same
 *     fmaf chain): M, N in 1..17, 31..33, 63..65, K odd and even across 1..300, K
 *     split into two blocks (accumulate = true on the second), C with ldc > N whose
 *     gap columns keep their 0xA5 fill, A ending at an inaccessible page;
 *  3. the list's rules (names, exact, scalar last) and the tables' choice;
 *  4. qb_fmaf (the scalar kernels' fmaf without a libm call) == fmaf, bit for bit. */
#include <math.h>
#include <stdio.h>

#include "f32-gemm/qb_f32_gemm.h"
#include "qb_exact_util.h"

static const size_t k_mn[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                              31, 32, 33, 63, 64, 65};
static const size_t k_k[] = {1, 2, 3, 7, 16, 17, 31, 33, 64, 65, 127, 300};

/* Values spread over magnitudes 2^-8..2^8 with random signs, some exact zeros. */
static void fill(float* x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const int r = (int)qb_rand_below(16);
    x[i] = r == 0 ? 0.0f : r == 1 ? -0.0f : qb_rand_normal() * ldexpf(1.0f, qb_rand_range(-8, 8));
  }
}

static void check_reference_bound(size_t M, size_t N, size_t K) {
  float* A = malloc(M * K * sizeof *A);
  float* B = malloc(K * N * sizeof *B);
  float* C = malloc(M * N * sizeof *C);
  fill(A, M * K), fill(B, K * N);
  qb_f32_gemm__scalar(M, N, K, A, K, 1, B, N, 1, C, N);
  const double u = ldexp(1.0, -24), gamma = K * u / (1 - K * u);
  size_t bad = 0;
  for (size_t i = 0; i < M; i++)
    for (size_t j = 0; j < N; j++) {
      double exact = 0, mag = 0;
      float naive = 0.0f;
      for (size_t k = 0; k < K; k++) {
        const double p = (double)A[i * K + k] * (double)B[k * N + j];
        exact += p, mag += fabs(p);
        const float prod = A[i * K + k] * B[k * N + j];
        naive = naive + prod;
      }
      const double bound = 1.01 * gamma * mag + (double)K * ldexp(1.0, -149);
      bad += fabs((double)C[i * N + j] - exact) > bound;
      bad += fabs((double)naive - exact) > bound;
      bad += fabs((double)C[i * N + j] - (double)naive) > 2 * bound;
    }
  QB_CHECK_MSG(bad == 0, "reference M=%zu N=%zu K=%zu: %zu values outside the bound", M, N, K, bad);
  free(A), free(B), free(C);
}

/* C = A x B through e's microkernel: panels packed with e's NR, tiles MR x NR, K in
 * blocks of kc (accumulate after the first). */
static void run_entry(const qb_f32_gemm_entry* e, size_t M, size_t N, size_t K, size_t kc,
                      const float* A, size_t lda, const float* packed, float* C, size_t ldc) {
  const size_t mr = e->info.mr, nr = e->info.nr, g = e->gemv_panels;
  for (size_t k0 = 0; k0 < K; k0 += kc) {
    const size_t kb = K - k0 < kc ? K - k0 : kc;
    if (M == 1 && e->gemv) {
      for (size_t p = 0; p * nr < N; p += g)
        e->gemv(N - p * nr < g * nr ? N - p * nr : g * nr, kb, A + k0, packed + p * K * nr + k0 * nr,
                K * nr, C + p * nr, k0 > 0);
      continue;
    }
    for (size_t p = 0; p * nr < N; p++)
      for (size_t i = 0; i < M; i += mr)
        e->ukernel(M - i < mr ? M - i : mr, N - p * nr < nr ? N - p * nr : nr, kb,
                   A + i * lda + k0, lda, packed + p * K * nr + k0 * nr, C + i * ldc + p * nr,
                   ldc, k0 > 0);
  }
}

static int reported = 0;

static void check_entry(const qb_f32_gemm_entry* e, size_t M, size_t N, size_t K) {
  const size_t lda = K + 1, ldc = N + 3;
  qb_tail_buf ta;
  float* A = qb_tail_alloc(&ta, (M * lda) * sizeof(float)); /* ends at a PROT_NONE page */
  float* B = malloc(K * N * sizeof *B);
  fill(A, M * lda), fill(B, K * N);
  const size_t packed_floats = (qb_f32_gemm_packed_floats(e->info.nr, N, K) + 15) / 16 * 16;
  float* packed = aligned_alloc(64, packed_floats * sizeof(float)); /* size: a multiple of 64 */
  qb_f32_gemm_pack(e->info.nr, N, K, B, N, 1, 0, (N + e->info.nr - 1) / e->info.nr, packed);
  float* ref = malloc(M * ldc * sizeof *ref);
  float* got = malloc(M * ldc * sizeof *got);
  qb_f32_gemm__scalar(M, N, K, A, lda, 1, B, N, 1, ref, ldc);
  /* Whole K in one block, then two blocks (the second continues the chain). */
  const size_t kcs[2] = {K, K > 1 ? (K + 1) / 2 : 1};
  for (int v = 0; v < 2; v++) {
    memset(got, 0xA5, M * ldc * sizeof *got);
    run_entry(e, M, N, K, kcs[v], A, lda, packed, got, ldc);
    size_t bad = 0, gap = 0;
    for (size_t i = 0; i < M; i++) {
      for (size_t j = 0; j < N; j++) bad += memcmp(&got[i * ldc + j], &ref[i * ldc + j], sizeof(float)) != 0;
      for (size_t j = N; j < ldc; j++) {
        uint32_t bits;
        memcpy(&bits, &got[i * ldc + j], sizeof bits);
        gap += bits != 0xA5A5A5A5u;
      }
    }
    QB_CHECK_MSG(bad == 0 && gap == 0, "%s M=%zu N=%zu K=%zu kc=%zu: %zu differ from the reference, "
                 "%zu gap values written", e->info.name, M, N, K, kcs[v], bad, gap);
    if ((bad || gap) && ++reported > 20) exit(qb_test_finish("test_f32_gemm_exact"));
  }
  qb_tail_free(&ta);
  free(B), free(packed), free(ref), free(got);
}

/* qb_fmaf == libm fmaf, bit for bit: random operands over the whole exponent range,
 * products that cancel z exactly or to a subnormal, float midpoints (x*y + z exactly
 * halfway between two floats), zeros of both signs, infinities. */
static void check_fmaf(void) {
  size_t bad = 0;
  for (int i = 0; i < 2000000; i++) {
    float x, y, z;
    const int kind = i % 5;
    x = qb_rand_normal() * ldexpf(1.0f, qb_rand_range(kind == 0 ? -140 : -20, kind == 0 ? 120 : 20));
    y = qb_rand_normal() * ldexpf(1.0f, qb_rand_range(kind == 0 ? -140 : -20, kind == 0 ? 120 : 20));
    z = qb_rand_normal() * ldexpf(1.0f, qb_rand_range(-40, 40));
    if (kind == 1) z = -x * y;                               /* cancellation */
    if (kind == 2) {                                         /* z + half an ulp of z */
      z = (float)(1 + qb_rand_below(1u << 23)) * ldexpf(1.0f, qb_rand_range(-30, 30));
      x = ldexpf(1.0f, qb_rand_range(-10, 10)), y = ldexpf(z, -24) / x * (qb_rand_below(2) ? 1 : -1);
    }
    if (kind == 3) x = (float)qb_rand_range(-4096, 4096), y = (float)qb_rand_range(-4096, 4096),
                   z = ldexpf((float)qb_rand_range(-(1 << 20), 1 << 20), qb_rand_range(-8, 8));
    if (kind == 4 && i % 7 == 0) z = qb_rand_below(2) ? INFINITY : -0.0f;
    const float a = qb_fmaf(x, y, z), b = fmaf(x, y, z);
    bad += memcmp(&a, &b, sizeof a) != 0;
  }
  QB_CHECK_MSG(bad == 0, "qb_fmaf differs from fmaf on %zu of 2000000 operand triples", bad);
}

static void check_list(const qb_f32_gemm_entry* list, size_t count) {
  for (size_t i = 0; i < count; i++) {
    const char* tok = strstr(list[i].info.name, "__");
    QB_CHECK_MSG(strncmp(list[i].info.name, "qb_f32_gemm_", 12) == 0, "%s", list[i].info.name);
    QB_CHECK_MSG(tok && strcmp(tok + 2, qb_backend_name(list[i].info.backend)) == 0, "%s",
                 list[i].info.name);
    QB_CHECK_MSG(list[i].info.exact && list[i].info.kr == 1, "%s", list[i].info.name);
    /* The driver copies A tiles into a stack buffer of 8 rows. */
    QB_CHECK_MSG(list[i].info.mr <= 8, "%s", list[i].info.name);
    QB_CHECK((list[i].info.backend == QB_BACKEND_SCALAR) == (i + 1 == count));
    QB_CHECK(list[i].info.packed_size(5, 3) ==
             qb_f32_gemm_packed_floats(list[i].info.nr, 5, 3) * sizeof(float));
  }
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const qb_dispatch_table* t = qb_dispatch_get((qb_backend)b);
    if (!t) continue;
    QB_CHECK(qb_isa_usable(t->f32_gemm->info.backend));
    for (size_t i = 0; i < count; i++)
      if (list[i].info.backend == (qb_backend)b) QB_CHECK(t->f32_gemm == &list[i]);
  }
}

int main(void) {
  qb_test_seed(0xF32F32u);
  for (size_t i = 0; i < sizeof k_k / sizeof k_k[0]; i++) {
    check_reference_bound(3, 5, k_k[i]);
    check_reference_bound(2, 3, 1000 + k_k[i]);
  }
  check_fmaf();
  size_t count;
  const qb_f32_gemm_entry* list = qb_f32_gemm_entries(&count);
  check_list(list, count);
  for (size_t i = 0; i < count; i++) {
    if (!qb_isa_usable(list[i].info.backend)) {
      printf("%s: backend not usable here, not run\n", list[i].info.name);
      continue;
    }
    for (size_t a = 0; a < sizeof k_mn / sizeof k_mn[0]; a++)
      for (size_t b = 0; b < sizeof k_mn / sizeof k_mn[0]; b++)
        check_entry(&list[i], k_mn[a], k_mn[b], k_k[(a * 7 + b) % (sizeof k_k / sizeof k_k[0])]);
    for (size_t k = 0; k < sizeof k_k / sizeof k_k[0]; k++) check_entry(&list[i], 13, 47, k_k[k]);
  }
  return qb_test_finish("test_f32_gemm_exact");
}
