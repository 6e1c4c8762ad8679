/* Scalar entries of the int8 GEMM families: the reference behind the pack/run
 * interface. Packed buffer: int32 b_zero_point[N], then B copied densely (N x K,
 * row stride K). run calls qb_*_gemm__scalar on it, so "scalar" results are the
 * reference's by construction. The pack-time a_zero_point is not needed. */
#include <string.h>

#include "qb_kernels.h"
#include "qb_q8_gemm.h"

size_t qb_q8_gemm_packed_size__scalar(size_t N, size_t K) { return N * sizeof(int32_t) + N * K; }

static void pack_copy(size_t N, size_t K, const void* B, size_t ldb, const int32_t* b_zero_point,
                      void* packed) {
  unsigned char* out = (unsigned char*)packed;
  if (N) memcpy(out, b_zero_point, N * sizeof(int32_t));
  for (size_t n = 0; n < N; n++)
    if (K) memcpy(out + N * sizeof(int32_t) + n * K, (const unsigned char*)B + n * ldb, K);
}

static const int32_t* packed_zp(const void* packed) { return (const int32_t*)packed; }
static const void* packed_b(const void* packed, size_t N) {
  return (const unsigned char*)packed + N * sizeof(int32_t);
}

#define QB_DEFINE_SCALAR_ENTRY(AT, BT, A_T, B_T)                                             \
  void qb_##AT##_##BT##_qs32_gemm_pack__scalar(size_t N, size_t K, const B_T* B, size_t ldb,  \
                                               const int32_t* b_zero_point,                 \
                                               int32_t a_zero_point, void* packed) {        \
    (void)a_zero_point;                                                                      \
    pack_copy(N, K, B, ldb, b_zero_point, packed);                                           \
  }                                                                                          \
  void qb_##AT##_##BT##_qs32_gemm_run__scalar(size_t M, size_t N, size_t K, const A_T* A,    \
                                              size_t lda, int32_t a_zero_point,              \
                                              const void* packed, int32_t* C, size_t ldc) {  \
    qb_##AT##_##BT##_qs32_gemm__scalar(M, N, K, A, lda, a_zero_point,                        \
                                       (const B_T*)packed_b(packed, N), K, packed_zp(packed), \
                                       C, ldc);                                              \
  }

QB_DEFINE_SCALAR_ENTRY(qu8, qs8, uint8_t, int8_t)
QB_DEFINE_SCALAR_ENTRY(qs8, qs8, int8_t, int8_t)
QB_DEFINE_SCALAR_ENTRY(qu8, qu8, uint8_t, uint8_t)

/* Saturation count of a vpmaddubsw kernel: pairs (2p, 2p+1) of raw u8 x s8
 * products summed into int16 (see qb_q8_gemm.h). */
uint64_t qb_qu8_qs8_qs32_gemm_saturations__scalar(size_t M, size_t N, size_t K,
                                                  const uint8_t* A, size_t lda,
                                                  const int8_t* B, size_t ldb) {
  uint64_t count = 0;
  for (size_t m = 0; m < M; m++)
    for (size_t n = 0; n < N; n++)
      for (size_t k = 0; k < K; k += 2) {
        int32_t s = (int32_t)A[m * lda + k] * B[n * ldb + k];
        if (k + 1 < K) s += (int32_t)A[m * lda + k + 1] * B[n * ldb + k + 1];
        count += (s < INT16_MIN || s > INT16_MAX);
      }
  return count;
}
