/* qb_qu8_qs8_qs32_gemm_8x24c4__avx512vnni: int8 GEMM, u8 x s8 -> s32, AVX-512 VNNI
 * on ymm registers (EVEX vpdpbusd ymm via AVX512VL; ymm16-31 available).
 * Tile 8 rows x 24 columns x 4 k: 24 accumulators ymm (8 rows x 3), 3 ymm of
 * packed B per group of 4 k, A broadcast with vpbroadcastd; 24 vpdpbusd per group.
 * Exact for the same reasons as the zmm kernel (see qb_q8_gemm_avx512vnni.h). */
#define QB_MR 8
#define QB_NV 3
#define QB_VW 8
#include "qb_q8_gemm_avx512vnni.h"

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_8x24c4__avx512vnni
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_8x24c4__avx512vnni
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_8x24c4__avx512vnni
#define QB_QS8_QS8_PACK qb_qs8_qs8_qs32_gemm_pack_8x24c4__avx512vnni
#define QB_QS8_QS8_RUN qb_qs8_qs8_qs32_gemm_8x24c4__avx512vnni
#define QB_QU8_QU8_PACK qb_qu8_qu8_qs32_gemm_pack_8x24c4__avx512vnni
#define QB_QU8_QU8_RUN qb_qu8_qu8_qs32_gemm_8x24c4__avx512vnni
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_driver.h"
