/* The exported pack / run functions of one int8 GEMM kernel file, around its
 * loop nest. Included at the end of a driver template (qb_q8_gemm_driver.h,
 * qb_q8_gemm_c2_driver.h) once it has defined
 *   qb_gemm_drive(M, N, K, A, lda, za_kernel, axor, packed, C, ldc)
 * and the kernel file has defined QB_NR, QB_WLAYOUT and the exported names
 * (QB_PACKED_SIZE, QB_QU8_QS8_PACK/RUN, optionally QB_QS8_QS8_* and QB_QU8_QU8_*). */
size_t QB_PACKED_SIZE(size_t N, size_t K) { return qb_q8_packed_size(N, K, QB_NR, QB_WLAYOUT); }

void QB_QU8_QS8_PACK(size_t N, size_t K, const int8_t* B, size_t ldb,
                     const int32_t* b_zero_point, int32_t a_zero_point, void* packed) {
  qb_q8_pack(N, K, B, ldb, false, b_zero_point, a_zero_point, QB_NR, QB_WLAYOUT, packed);
}

void QB_QU8_QS8_RUN(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda,
                    int32_t a_zero_point, const void* packed, int32_t* C, size_t ldc) {
  qb_gemm_drive(M, N, K, A, lda, a_zero_point, 0, packed, C, ldc);
}

#ifdef QB_QS8_QS8_RUN
void QB_QS8_QS8_PACK(size_t N, size_t K, const int8_t* B, size_t ldb,
                     const int32_t* b_zero_point, int32_t a_zero_point, void* packed) {
  qb_q8_pack(N, K, B, ldb, false, b_zero_point, (int32_t)((uint32_t)a_zero_point + 128u), QB_NR,
             QB_WLAYOUT, packed);
}

void QB_QS8_QS8_RUN(size_t M, size_t N, size_t K, const int8_t* A, size_t lda,
                    int32_t a_zero_point, const void* packed, int32_t* C, size_t ldc) {
  qb_gemm_drive(M, N, K, (const uint8_t*)A, lda, (int32_t)((uint32_t)a_zero_point + 128u),
                0x80808080u, packed, C, ldc);
}
#endif

#ifdef QB_QU8_QU8_RUN
void QB_QU8_QU8_PACK(size_t N, size_t K, const uint8_t* B, size_t ldb,
                     const int32_t* b_zero_point, int32_t a_zero_point, void* packed) {
  qb_q8_pack(N, K, B, ldb, true, b_zero_point, a_zero_point, QB_NR, QB_WLAYOUT, packed);
}

void QB_QU8_QU8_RUN(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda,
                    int32_t a_zero_point, const void* packed, int32_t* C, size_t ldc) {
  qb_gemm_drive(M, N, K, A, lda, a_zero_point, 0, packed, C, ldc);
}
#endif
