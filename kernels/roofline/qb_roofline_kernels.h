/* Roofline probe loops: the compute and bandwidth ceilings of this machine, one
 * loop per (ceiling, ISA). They do no useful work; they issue one instruction mix as
 * fast as the core can, and the harness (harness/bench/qb_roofline.c) times them.
 *
 * Compute loops run `iters` iterations of a fixed body and return a checksum of
 * their accumulators (store it into a volatile sink). Each body is a set of
 * independent accumulator chains, enough to cover the instruction's latency at full
 * throughput. An empty `asm volatile` naming every accumulator and operand ends each
 * iteration, so the compiler cannot hoist, fold or delete the work, and keeps the
 * accumulators in registers.
 *
 * What counts as a MAC (int8): one 8-bit x 8-bit product added into a 32-bit sum.
 * GOPS = 2 x MACs / s. Per instruction:
 *   vpdpbusd zmm / ymm          64 / 32 MACs (u8 x s8, 4 products summed into each
 *                               int32 lane, exact)
 *   vpmaddubsw + vpmaddwd(1s) + vpaddd, ymm / xmm
 *                               32 / 16 MACs per 3-instruction group (u8 x s8 pairs
 *                               summed into int16 *with saturation*, widened to int32
 *                               by multiplying with ones, then added): the classic
 *                               AVX2/SSSE3 int8 path, not exact for all inputs
 *   vpmaddwd + vpaddd, ymm / xmm  16 / 8 MACs per group on int8 values held in int16
 *                               lanes (exact); the cost of widening int8 -> int16 is
 *                               not included (weights can be packed as int16)
 * FLOPs (fp32): one FMA = 2 FLOPs; vfmadd231ps ymm / zmm = 16 / 32 FLOPs.
 *
 * The read-bandwidth loop sums `bytes` of `buf` (a multiple of
 * QB_READ_BW_BLOCK bytes, 64-byte aligned) `passes` times with 256-bit loads added
 * into 8 independent accumulators; a compiler barrier between passes keeps the
 * passes from being merged. */
#ifndef QB_ROOFLINE_KERNELS_H
#define QB_ROOFLINE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "isa/qb_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MACs (int8) or FLOPs (fp32) per iteration of each loop. */
#define QB_PEAK_INT8_VNNI_ZMM_MACS 1024    /* 16 x vpdpbusd zmm */
#define QB_PEAK_INT8_VNNI_YMM_MACS 512     /* 16 x vpdpbusd ymm */
#define QB_PEAK_INT8_MADDUBS_YMM_MACS 256  /* 8 groups x 32 */
#define QB_PEAK_INT8_MADDWD_YMM_MACS 128   /* 8 groups x 16 */
#define QB_PEAK_INT8_MADDUBS_XMM_MACS 128  /* 8 groups x 16 */
#define QB_PEAK_INT8_MADDWD_XMM_MACS 64    /* 8 groups x 8 */
#define QB_PEAK_FP32_FMA_YMM_FLOPS 192     /* 12 x vfmadd231ps ymm x 16 */
#define QB_PEAK_FP32_FMA_ZMM_FLOPS 768     /* 24 x vfmadd231ps zmm x 32 */

#define QB_READ_BW_BLOCK 256 /* bytes per inner iteration of the read loop */

/* AVX-512 VNNI (needs AVX512F+VL+VNNI; -mavx512vnni). */
uint64_t qb_peak_int8_vnni_zmm__avx512vnni(uint64_t iters);
uint64_t qb_peak_int8_vnni_ymm__avx512vnni(uint64_t iters);
uint64_t qb_peak_fp32_fma_zmm__avx512vnni(uint64_t iters);
/* AVX2 (+FMA for the fp32 loop). */
uint64_t qb_peak_int8_maddubs_ymm__avx2(uint64_t iters);
uint64_t qb_peak_int8_maddwd_ymm__avx2(uint64_t iters);
uint64_t qb_peak_fp32_fma_ymm__avx2(uint64_t iters);
uint64_t qb_read_bw__avx2(const void* buf, size_t bytes, uint64_t passes);
/* SSE4.1 (pmaddubsw is SSSE3, pmaddwd SSE2). */
uint64_t qb_peak_int8_maddubs_xmm__sse41(uint64_t iters);
uint64_t qb_peak_int8_maddwd_xmm__sse41(uint64_t iters);

/* ---- the probes: one row per ceiling, run by harness/bench/qb_roofline.c ---- */
typedef enum { QB_ROOF_INT8 = 0, QB_ROOF_FP32 = 1, QB_ROOF_READ = 2 } qb_roofline_kind;
/* Working set of a read probe, per thread: a cache level, or DRAM. */
typedef enum { QB_ROOF_WS_L1, QB_ROOF_WS_L2, QB_ROOF_WS_L3, QB_ROOF_WS_DRAM } qb_roofline_ws;

typedef struct {
  const char* name;   /* stable key, named by the backend table's roof_int8 / roof_fp32 */
  qb_backend backend; /* whose instructions the loop uses: measured where it can run */
  qb_roofline_kind kind;
  const char* what;   /* instruction mix or working set, for people */
  uint64_t (*compute)(uint64_t iters); /* compute probes */
  double work_per_iter;                /* MACs (int8) or FLOPs (fp32) per iteration */
  uint64_t (*read)(const void* buf, size_t bytes, uint64_t passes); /* read probes */
  qb_roofline_ws ws;
} qb_roofline_probe;

/* The probes of this architecture (none on aarch64 yet). */
const qb_roofline_probe* qb_roofline_probes(size_t* count);

#ifdef __cplusplus
}
#endif

#endif
