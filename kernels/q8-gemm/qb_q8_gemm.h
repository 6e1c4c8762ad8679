/* int8 GEMM kernels with packed weights (kernels/q8-gemm). Each kernel comes with
 * its packing routine; use them together (the dispatch lists in qb_dispatch.h pair
 * them). Semantics are those of the scalar reference (qb_kernels.h):
 *   C[m][n] = sum_k (A[m][k] - a_zero_point) * (B[n][k] - b_zero_point[n])
 * bit for bit, except the *_sat__avx2 kernels (saturating, see below).
 *
 *   size_t packed_size(N, K)                        bytes of the packed buffer
 *   void pack(N, K, B, ldb, b_zero_point, a_zero_point, packed)
 *   void run(M, N, K, A, lda, a_zero_point, packed, C, ldc)
 * run's a_zero_point may differ from pack's (the correction is exact). */
#ifndef QB_Q8_GEMM_H
#define QB_Q8_GEMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QB_Q8_GEMM_DECLARE_PACKED_SIZE(SUFFIX) \
  size_t qb_q8_gemm_packed_size_##SUFFIX(size_t N, size_t K);

#define QB_Q8_GEMM_DECLARE(AT, BT, A_T, B_T, SUFFIX)                                       \
  void qb_##AT##_##BT##_qs32_gemm_pack_##SUFFIX(size_t N, size_t K, const B_T* B, size_t ldb, \
                                                const int32_t* b_zero_point,               \
                                                int32_t a_zero_point, void* packed);       \
  void qb_##AT##_##BT##_qs32_gemm_##SUFFIX(size_t M, size_t N, size_t K, const A_T* A,      \
                                           size_t lda, int32_t a_zero_point,               \
                                           const void* packed, int32_t* C, size_t ldc);

#define QB_Q8_GEMM_DECLARE_ALL(SUFFIX)                    \
  QB_Q8_GEMM_DECLARE_PACKED_SIZE(SUFFIX)                  \
  QB_Q8_GEMM_DECLARE(qu8, qs8, uint8_t, int8_t, SUFFIX)   \
  QB_Q8_GEMM_DECLARE(qs8, qs8, int8_t, int8_t, SUFFIX)    \
  QB_Q8_GEMM_DECLARE(qu8, qu8, uint8_t, uint8_t, SUFFIX)

/* Scalar entries: pack copies the zero points and B (N x K, dense), run calls the
 * reference qb_*_gemm__scalar on the copy (so the entry's name is the reference's). */
size_t qb_q8_gemm_packed_size__scalar(size_t N, size_t K);
void qb_qu8_qs8_qs32_gemm_pack__scalar(size_t N, size_t K, const int8_t* B, size_t ldb,
                                       const int32_t* b_zero_point, int32_t a_zero_point,
                                       void* packed);
void qb_qu8_qs8_qs32_gemm_run__scalar(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda,
                                      int32_t a_zero_point, const void* packed, int32_t* C,
                                      size_t ldc);
void qb_qs8_qs8_qs32_gemm_pack__scalar(size_t N, size_t K, const int8_t* B, size_t ldb,
                                       const int32_t* b_zero_point, int32_t a_zero_point,
                                       void* packed);
void qb_qs8_qs8_qs32_gemm_run__scalar(size_t M, size_t N, size_t K, const int8_t* A, size_t lda,
                                      int32_t a_zero_point, const void* packed, int32_t* C,
                                      size_t ldc);
void qb_qu8_qu8_qs32_gemm_pack__scalar(size_t N, size_t K, const uint8_t* B, size_t ldb,
                                       const int32_t* b_zero_point, int32_t a_zero_point,
                                       void* packed);
void qb_qu8_qu8_qs32_gemm_run__scalar(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda,
                                      int32_t a_zero_point, const void* packed, int32_t* C,
                                      size_t ldc);

#if defined(__x86_64__) || defined(__i386__)
QB_Q8_GEMM_DECLARE_ALL(8x32c4__avx512vnni)
QB_Q8_GEMM_DECLARE_ALL(8x24c4__avx512vnni)
QB_Q8_GEMM_DECLARE_ALL(6x16c2__avx2)
QB_Q8_GEMM_DECLARE_ALL(6x8c2__sse41)

/* Saturating AVX2 (vpmaddubsw + vpmaddwd(1)), as deployed int8 runtimes compute:
 * the u8 x s8 products of adjacent k pairs (2p, 2p+1) are summed into int16 with
 * saturation, so the result differs from the reference whenever such a pair sum of
 * the raw (not zero-point-shifted) values leaves [-32768, 32767]. */
QB_Q8_GEMM_DECLARE_PACKED_SIZE(4x16c4_sat__avx2)
QB_Q8_GEMM_DECLARE(qu8, qs8, uint8_t, int8_t, 4x16c4_sat__avx2)
#endif

#if defined(__aarch64__)
/* Arm: USMMLA (i8mm), SDOT (dotprod) and SMULL + SADALP (plain NEON), exact; see
 * qb_q8_gemm_neon.h for how u8 A is multiplied as s8 without i8mm. */
QB_Q8_GEMM_DECLARE_ALL(4x16c8__i8mm)
QB_Q8_GEMM_DECLARE_ALL(4x16c4__neondot)
QB_Q8_GEMM_DECLARE_ALL(4x8c4__neon)
#endif

/* How many int16 pair sums a*b + a'*b' (k pairs 2p, 2p+1, raw values, a missing
 * k+1 counts as 0) fall outside [-32768, 32767] over all (m, n, p): the number of
 * saturations a vpmaddubsw kernel incurs on this A, B. Scalar; for the numeric
 * suite and tests. */
uint64_t qb_qu8_qs8_qs32_gemm_saturations__scalar(size_t M, size_t N, size_t K,
                                                  const uint8_t* A, size_t lda,
                                                  const int8_t* B, size_t ldb);

#ifdef __cplusplus
}
#endif
#endif /* QB_Q8_GEMM_H */
