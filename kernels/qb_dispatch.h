/* Kernel dispatch: one table of kernels per backend, built once.
 *
 * Each kernel family has ONE list of entries, best first (qb_*_entries()).
 * Dispatch, the exactness tests and the benchmarks all read these lists, so a new
 * kernel is added in one place (kernels/dispatch/qb_dispatch.c).
 *
 * The table of backend b holds, for each family, the first entry of the list whose
 * backend is the first usable one along b's fallback chain (the backend table's
 * fallback links, kernels/isa/qb_backend_table.c; `qbench info` prints them):
 *   scalar     : scalar
 *   sse41      : sse41, scalar
 *   avx2       : avx2, sse41, scalar
 *   avx2-sat   : avx2-sat, avx2, sse41, scalar
 *   avx512vnni : avx512vnni, avx2, sse41, scalar       (never avx2-sat: not exact)
 *   neon       : neon, scalar
 *   neondot    : neondot, neon, scalar
 *   i8mm       : i8mm, neondot, neon, scalar
 * "usable" (qb_isa.h) includes the mask, so a masked-out backend's kernels are
 * never picked, not even as a fallback. Every family has a scalar entry, so every
 * usable backend's table is complete. A kernel and its packing routine are one
 * entry: always pack with the entry you run.
 *
 * qb_dispatch_best() is the usable backend of highest best_rank in the table, always an
 * exact one: avx512vnni > avx2 > sse41 >
 * scalar on x86, i8mm > neondot > neon > scalar on Arm. avx2-sat is only ever used when
 * asked for by qb_dispatch_get(QB_BACKEND_AVX2_SAT). */
#ifndef QB_DISPATCH_H
#define QB_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/qb_isa.h"
#include "qb_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What every entry has, whatever its family. */
typedef struct {
  const char* name;     /* full kernel name, e.g. "qb_qu8_qs8_qs32_gemm_8x32c4__avx512vnni" */
  qb_backend backend;
  uint8_t mr, nr, kr;   /* tile (1x1c1 for the scalar reference) */
  bool exact;           /* bit-identical to the scalar reference for every input */
  size_t (*packed_size)(size_t N, size_t K);
} qb_gemm_info;

/* int8 GEMM, C = sum_k (A - a_zero_point) * (B - b_zero_point[n]), int32 output;
 * A: M x K (lda), B: N x K (ldb), C: M x N (ldc). See kernels/q8-gemm/qb_q8_gemm.h. */
typedef struct {
  qb_gemm_info info;
  void (*pack)(size_t N, size_t K, const int8_t* B, size_t ldb, const int32_t* b_zero_point,
               int32_t a_zero_point, void* packed);
  void (*run)(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda, int32_t a_zero_point,
              const void* packed, int32_t* C, size_t ldc);
  /* Non-exact kernels only (else NULL): how many internal saturations this A, B
   * incurs (raw values, unpacked B). */
  uint64_t (*saturations)(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda,
                          const int8_t* B, size_t ldb);
} qb_qu8_qs8_qs32_gemm_entry;

typedef struct {
  qb_gemm_info info;
  void (*pack)(size_t N, size_t K, const int8_t* B, size_t ldb, const int32_t* b_zero_point,
               int32_t a_zero_point, void* packed);
  void (*run)(size_t M, size_t N, size_t K, const int8_t* A, size_t lda, int32_t a_zero_point,
              const void* packed, int32_t* C, size_t ldc);
} qb_qs8_qs8_qs32_gemm_entry;

typedef struct {
  qb_gemm_info info;
  void (*pack)(size_t N, size_t K, const uint8_t* B, size_t ldb, const int32_t* b_zero_point,
               int32_t a_zero_point, void* packed);
  void (*run)(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda, int32_t a_zero_point,
              const void* packed, int32_t* C, size_t ldc);
} qb_qu8_qu8_qs32_gemm_entry;

/* ------------------------------------------------ the non-GEMM families
 * Their kernels take the scalar reference's prototype (qb_kernels.h) and need no
 * packing; an entry groups the variants of one op that share one implementation
 * (qs8 and qu8 outputs differ only in the C type of the bytes). Lists and their
 * accessors live in kernels/dispatch/qb_dispatch_<family>.c. */
typedef struct {
  const char* name;     /* e.g. "qb_f32_q8_quantize__avx2" (q8 = the qs8 and qu8 pair) */
  qb_backend backend;
  bool exact;           /* bit-identical to the scalar reference for every input */
} qb_kernel_info;

/* f32 -> qs8 / qu8, qb_f32_qs8_quantize__scalar semantics (both rounding modes). */
typedef void (*qb_f32_qs8_quantize_fn)(size_t n, const float* x, float scale, int32_t zero_point,
                                       int32_t qmin, int32_t qmax, qb_round_mode mode, int8_t* y);
typedef void (*qb_f32_qu8_quantize_fn)(size_t n, const float* x, float scale, int32_t zero_point,
                                       int32_t qmin, int32_t qmax, qb_round_mode mode, uint8_t* y);
typedef struct {
  qb_kernel_info info;
  qb_f32_qs8_quantize_fn f32_qs8;
  qb_f32_qu8_quantize_fn f32_qu8;
} qb_f32_q8_quantize_entry;

/* qs8 / qu8 -> f32, qb_qs8_f32_dequantize__scalar semantics. */
typedef struct {
  qb_kernel_info info;
  void (*qs8_f32)(size_t n, const int8_t* q, float scale, int32_t zero_point, float* y);
  void (*qu8_f32)(size_t n, const uint8_t* q, float scale, int32_t zero_point, float* y);
} qb_q8_f32_dequantize_entry;

/* qs32 -> qs8 / qu8, fp32-scale path (qb_qs32_qs8_requantize_fp32__scalar). */
typedef struct {
  qb_kernel_info info;
  void (*qs32_qs8)(size_t M, size_t N, const int32_t* acc, size_t ldacc, const int32_t* bias,
                   const float* scale, int32_t zero_point, int32_t qmin, int32_t qmax, int8_t* y,
                   size_t ldy);
  void (*qs32_qu8)(size_t M, size_t N, const int32_t* acc, size_t ldacc, const int32_t* bias,
                   const float* scale, int32_t zero_point, int32_t qmin, int32_t qmax, uint8_t* y,
                   size_t ldy);
} qb_qs32_q8_requantize_fp32_entry;

/* qs32 -> qs8 / qu8, gemmlowp fixed-point path (qb_qs32_qs8_requantize_gemmlowp__scalar). */
typedef struct {
  qb_kernel_info info;
  void (*qs32_qs8)(size_t M, size_t N, const int32_t* acc, size_t ldacc, const int32_t* bias,
                   const qb_fixedpoint_multiplier* multiplier, int32_t zero_point, int32_t qmin,
                   int32_t qmax, int8_t* y, size_t ldy);
  void (*qs32_qu8)(size_t M, size_t N, const int32_t* acc, size_t ldacc, const int32_t* bias,
                   const qb_fixedpoint_multiplier* multiplier, int32_t zero_point, int32_t qmin,
                   int32_t qmax, uint8_t* y, size_t ldy);
} qb_qs32_q8_requantize_gemmlowp_entry;

/* W4A8: row quantization of the activations and the int4-weight GEMM/GEMV that
 * consumes them, always used together (qb_qs8_q4_f32_wgemm__scalar semantics).
 * An entry either runs on the reference layout (wgemm; pack == NULL) or on weights
 * it repacked once, at prepare (pack, run_packed; wgemm == NULL):
 *   packed = packed_size(N, K, G, affine) bytes, filled by
 *   pack(N, K, G, w, scale, zero_point) from the reference layout (w, scale,
 *   zero_point as wgemm takes them; affine = zero_point != NULL);
 *   run_packed(M, N', K, G, affine, xq, sx, packed + packed_size(n0, K, G, affine),
 *   y + n0, ldy) computes columns [n0, n0 + N') for any n0 that is a multiple of nr. */
typedef struct {
  qb_kernel_info info;
  void (*rowquantize)(size_t M, size_t K, const float* x, size_t ldx, int8_t* xq, float* sx);
  void (*wgemm)(size_t M, size_t N, size_t K, size_t G, const int8_t* xq, const float* sx,
                const uint8_t* w, const float* scale, const int8_t* zero_point, float* y,
                size_t ldy);
  size_t (*packed_size)(size_t N, size_t K, size_t G, bool affine);
  void (*pack)(size_t N, size_t K, size_t G, const uint8_t* w, const float* scale,
               const int8_t* zero_point, void* packed);
  void (*run_packed)(size_t M, size_t N, size_t K, size_t G, bool affine, const int8_t* xq,
                     const float* sx, const void* packed, float* y, size_t ldy);
  size_t nr; /* packed entries: column slices start at multiples of nr channels */
} qb_qs8_q4_f32_wgemm_entry;

/* W4A32: int4 weights, fp32 activations (qb_f32_q4_f32_wgemm__scalar semantics). */
typedef struct {
  qb_kernel_info info;
  void (*wgemm)(size_t M, size_t N, size_t K, size_t G, const float* x, size_t ldx,
                const uint8_t* w, const float* scale, const int8_t* zero_point, float* y,
                size_t ldy);
} qb_f32_q4_f32_wgemm_entry;

/* Direct depthwise conv (qb_qu8_qs8_qs32_dwconv2d__scalar semantics). */
typedef struct {
  qb_kernel_info info;
  void (*run)(const qb_conv2d_shape* s, const uint8_t* x, int32_t x_zero_point, const int8_t* w,
              const int32_t* w_zero_point, int32_t* out);
} qb_qu8_qs8_qs32_dwconv2d_entry;

/* Direct depthwise conv with the fp32 requantization fused
 * (qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar semantics, kernels/qb_kernels.h):
 * u8 NCHW in, u8 NCHW out, output channels [c0, c1) of every image (split channels
 * across threads: harness/parallel/qb_dwconv_threaded.h). Exact for every input;
 * the SIMD path needs x_zero_point in 0..255, w_zero_point in -32640..32639 and
 * strides <= 2, other calls or channels take the reference rule inside the kernel.
 * Preconditions (as the reference's u8 output): 0 <= qmin <= qmax <= 255. The SIMD
 * kernels use about 48 KiB of stack (phase-plane and output buffers; no allocation). */
typedef struct {
  qb_kernel_info info;
  void (*run)(const qb_conv2d_shape* s, size_t c0, size_t c1, const uint8_t* x,
              int32_t x_zero_point, const int8_t* w, const int32_t* w_zero_point,
              const int32_t* bias, const float* scale, int32_t y_zero_point, int32_t qmin,
              int32_t qmax, uint8_t* y);
} qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry;

/* uint8 im2col of one image and group, rows [p0, p1) of the P x K column matrix
 * (qb_qu8_im2col_rows__scalar semantics: row p = oh * out_w + ow at columns + p * K,
 * padding = pad_value, the input zero point). A copy, so exact by construction;
 * threaded over rows by harness/parallel/qb_im2col_threaded.h. */
typedef struct {
  qb_kernel_info info;
  void (*run)(const qb_conv2d_shape* s, const uint8_t* image, size_t group, uint8_t pad_value,
              size_t p0, size_t p1, uint8_t* columns);
} qb_qu8_im2col_entry;

const qb_f32_q8_quantize_entry* qb_f32_q8_quantize_entries(size_t* count);
const qb_q8_f32_dequantize_entry* qb_q8_f32_dequantize_entries(size_t* count);
const qb_qs32_q8_requantize_fp32_entry* qb_qs32_q8_requantize_fp32_entries(size_t* count);
const qb_qs32_q8_requantize_gemmlowp_entry* qb_qs32_q8_requantize_gemmlowp_entries(size_t* count);
const qb_qs8_q4_f32_wgemm_entry* qb_qs8_q4_f32_wgemm_entries(size_t* count);
const qb_f32_q4_f32_wgemm_entry* qb_f32_q4_f32_wgemm_entries(size_t* count);
const qb_qu8_qs8_qs32_dwconv2d_entry* qb_qu8_qs8_qs32_dwconv2d_entries(size_t* count);
const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entries(
    size_t* count);
const qb_qu8_im2col_entry* qb_qu8_im2col_entries(size_t* count);

/* The family lists (best first; every entry compiled into this binary, usable or
 * not: check qb_isa_usable(entry->info.backend) before running one). */
const qb_qu8_qs8_qs32_gemm_entry* qb_qu8_qs8_qs32_gemm_entries(size_t* count);
const qb_qs8_qs8_qs32_gemm_entry* qb_qs8_qs8_qs32_gemm_entries(size_t* count);
const qb_qu8_qu8_qs32_gemm_entry* qb_qu8_qu8_qs32_gemm_entries(size_t* count);

/* fp32 GEMM on packed B (kernels/f32-gemm/qb_f32_gemm.h): the microkernel of one
 * MR x NR tile; B packed with qb_f32_gemm_pack(info.nr, ...); info.kr = 1,
 * info.packed_size(N, K) in bytes. Every entry is the reference's fmaf chain
 * (exact = true: bit-identical across backends). The driver with K blocking and
 * threads is harness/parallel/qb_f32_gemm_threaded.h. */
typedef struct {
  qb_gemm_info info;
  void (*ukernel)(size_t mr, size_t nc, size_t kc, const float* a, size_t lda, const float* w,
                  float* c, size_t ldc, bool accumulate);
  /* M = 1 tile over gemv_panels panels (NULL: the driver uses ukernel). */
  void (*gemv)(size_t nc, size_t kc, const float* a, const float* w, size_t panel_stride,
               float* c, bool accumulate);
  uint8_t gemv_panels;
} qb_f32_gemm_entry;
const qb_f32_gemm_entry* qb_f32_gemm_entries(size_t* count);

/* fp32 depthwise conv of one image, channels [c0, c1) (kernels/f32-dwconv/
 * qb_f32_dwconv2d.h; every entry gives the reference's bits). */
typedef struct {
  qb_kernel_info info;
  void (*run)(const qb_conv2d_shape* s, size_t c0, size_t c1, const float* x, const float* w,
              float* y);
} qb_f32_dwconv2d_entry;
const qb_f32_dwconv2d_entry* qb_f32_dwconv2d_entries(size_t* count);

/* One table per backend. */
typedef struct {
  qb_backend backend;
  const qb_qu8_qs8_qs32_gemm_entry* qu8_qs8_qs32_gemm;
  const qb_qs8_qs8_qs32_gemm_entry* qs8_qs8_qs32_gemm;
  const qb_qu8_qu8_qs32_gemm_entry* qu8_qu8_qs32_gemm;
  const qb_f32_q8_quantize_entry* f32_q8_quantize;
  const qb_q8_f32_dequantize_entry* q8_f32_dequantize;
  const qb_qs32_q8_requantize_fp32_entry* qs32_q8_requantize_fp32;
  const qb_qs32_q8_requantize_gemmlowp_entry* qs32_q8_requantize_gemmlowp;
  const qb_qs8_q4_f32_wgemm_entry* qs8_q4_f32_wgemm;
  const qb_f32_q4_f32_wgemm_entry* f32_q4_f32_wgemm;
  const qb_qu8_qs8_qs32_dwconv2d_entry* qu8_qs8_qs32_dwconv2d;
  const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* qu8_qs8_qu8_dwconv2d_minmax_fp32;
  const qb_qu8_im2col_entry* qu8_im2col;
  const qb_f32_gemm_entry* f32_gemm;
  const qb_f32_dwconv2d_entry* f32_dwconv2d;
} qb_dispatch_table;

/* Tables are built on first call (thread-safe; freezes the ISA mask). */
const qb_dispatch_table* qb_dispatch_get(qb_backend b); /* NULL if b is not usable */
const qb_dispatch_table* qb_dispatch_best(void);

/* The pure rules behind the tables, for tests and tools:
 * b's fallback chain (b first, scalar last); returns its length. */
size_t qb_dispatch_fallback_chain(qb_backend b, qb_backend chain[QB_BACKEND_COUNT]);
/* Index of the entry the table of `target` takes from a list of `count` entries
 * whose backends are entry_backend(i), given the usable set; -1 if target is not
 * in `usable` or nothing along the chain matches. */
ptrdiff_t qb_dispatch_select(qb_backend target, qb_backend_set usable, const qb_gemm_info* first,
                             size_t count, size_t stride);
/* The same rule for any list: `first_backend` points at entry 0's backend field. */
ptrdiff_t qb_dispatch_select_backend(qb_backend target, qb_backend_set usable,
                                     const qb_backend* first_backend, size_t count, size_t stride);
/* The table a backend would get under `usable` (the real tables use
 * qb_isa_usable_set()); false if target is not in usable. */
bool qb_dispatch_build(qb_backend target, qb_backend_set usable, qb_dispatch_table* table);
/* Best exact backend in `usable`. */
qb_backend qb_dispatch_best_backend(qb_backend_set usable);
/* True when every kernel of the table is exact (bit-identical to the scalar reference
 * for every input): a backend whose table is exact computes the same integer outputs
 * as scalar by design, so evaluating one exact backend evaluates them all (the sweep
 * checks this on a probe batch, qb_sweep_eval.h). avx2-sat's table is not exact. */
bool qb_dispatch_table_exact(const qb_dispatch_table* t);

#ifdef __cplusplus
}
#endif
#endif /* QB_DISPATCH_H */
