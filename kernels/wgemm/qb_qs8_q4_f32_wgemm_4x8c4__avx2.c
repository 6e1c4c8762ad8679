/* qb_qs8_q4_f32_wgemm_4x8c4__avx2: W4A8 int4-weight GEMM / GEMV on a weight panel
 * packed once at prepare, AVX2, exact (qb_qs8_q4_f32_wgemm__scalar semantics).
 * The layout (panels of 8 channels, per 8 channels x 32 k 128 bytes of interleaved
 * unsigned nibbles, per-group scales and zero points) is wgemm/qb_q4_pack_8c4.h's.
 *
 * One 32-byte load + vpand / vpsrlw + vpand gives two vectors whose lane c holds
 * channel c's four u8 weights of 4 consecutive k (the "c4" layout), ready for
 * vpmaddubsw against a broadcast dword of activations: lanes are output channels,
 * no horizontal sums and no transposes at run time. Per row and block: 8 vpmaddubsw
 * (|pair| <= 2 * 15 * 128 = 3840) summed in int16 (8 * 3840 = 30720 < 32768), one
 * vpmaddwd by ones into int32. Per group: acc - zp_eff * sum_{k in g} x[k] (exact
 * int32), then the reference's fp32 step total += (float)acc * scale (mul, then add;
 * no FMA), and y = sx * total at the end: each lane is one output's reference
 * sequence, so the result is bit-identical.
 *
 * Activations past a group's end are read (they meet zero weights); a block crossing
 * K reads a zero-padded copy. The tile is 4 rows x 8 channels (one unpacked panel
 * block serves 4 rows); M < 4 and row tails run a 1-row tile, which streams each
 * weight byte once (GEMV). Per-group activation sums are computed once per call for
 * a chunk of rows (a group chunk when there are more groups than the buffer holds,
 * totals then carried in y): wgemm/qb_w4a8_driver_packed.h, with this file's tile
 * and one-row path (symmetric weights: sums stored as 8 * sum, QB_W4A8P_SYM_XSUM8). */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "wgemm/qb_q4_pack_8c4.h"
#include "wgemm/qb_wgemm.h"

#define QB_NR QB_Q4_8C4_NR
#define QB_MR 4          /* rows per tile */
#define QB_BLOCK_BYTES QB_Q4_8C4_BLOCK_BYTES
#define QB_GEMV_PANELS 4 /* panels per GEMV pass */

/* An empty asm on the int16 accumulator: keeps each row's adds a chain, so GCC does
 * not reassociate them into a tree over all 8 products of all rows at once (which
 * needs 32 live vectors and spills). */
static inline __attribute__((always_inline)) void keep_chain(__m256i* v) { __asm__("" : "+x"(*v)); }

/* zp_eff * sum_{k in g} x[k] per lane: xsum is that sum (affine: times the group's 8
 * zero points, the tail p points at) or, for symmetric weights, already 8 times it
 * (the driver stores 8 * sum: no multiply per row and group). */
static inline __m256i zp_term(const uint8_t* p, bool affine, int32_t xsum) {
  const __m256i xs = _mm256_set1_epi32(xsum);
  if (!affine) return xs;
  return _mm256_mullo_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)(p + QB_Q4_8C4_SCALE_BYTES))), xs);
}

static inline __m256i broadcast_quad(const int8_t* x) {
  int32_t quad;
  memcpy(&quad, x, sizeof quad);
  return _mm256_set1_epi32(quad);
}

/* mr rows (x[r], their group sums xs[r][g - g0]) against one panel, groups [g0, g1)
 * starting at p; total_io[r] in/out (channels 0..7). */
static inline __attribute__((always_inline)) void w4a8p_tile(size_t mr, const int8_t* const* x,
                                                             const int32_t* const* xs, const uint8_t* p,
                                                             size_t K, size_t G, size_t g0, size_t g1,
                                                             bool affine, float total_io[][QB_NR]) {
  __m256 total[QB_MR]; /* lanes = channels */
  for (size_t r = 0; r < mr; r++) total[r] = _mm256_loadu_ps(total_io[r]);
  const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  const size_t tail = qb_q4_8c4_group_tail(affine);
  for (size_t g = g0; g < g1; g++) {
    const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    __m256i acc[QB_MR];
    for (size_t r = 0; r < mr; r++) acc[r] = _mm256_setzero_si256();
    for (size_t k = k0; k < k1; k += 32, p += QB_BLOCK_BYTES) {
      const int8_t* xb[QB_MR];
      int8_t stage[QB_MR][32];
      for (size_t r = 0; r < mr; r++) {
        xb[r] = x[r] + k;
        if (k + 32 > K) { /* the block crosses K: zero-padded copy */
          memset(stage[r], 0, sizeof stage[r]);
          memcpy(stage[r], x[r] + k, K - k);
          xb[r] = stage[r];
        }
      }
      __m256i s[QB_MR];
      for (size_t r = 0; r < mr; r++) s[r] = _mm256_setzero_si256();
      for (size_t v = 0; v < 4; v++) {
        const __m256i packed = _mm256_loadu_si256((const __m256i*)(p + 32 * v));
        const __m256i wl = _mm256_and_si256(packed, low);
        const __m256i wh = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low);
        for (size_t r = 0; r < mr; r++) {
          s[r] = _mm256_add_epi16(s[r], _mm256_maddubs_epi16(wl, broadcast_quad(xb[r] + 4 * v)));
          s[r] = _mm256_add_epi16(s[r], _mm256_maddubs_epi16(wh, broadcast_quad(xb[r] + 16 + 4 * v)));
          keep_chain(&s[r]);
        }
      }
      for (size_t r = 0; r < mr; r++) acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(s[r], ones));
    }
    const __m256 sc = _mm256_loadu_ps((const float*)p);
    for (size_t r = 0; r < mr; r++) {
      const __m256i a = _mm256_sub_epi32(acc[r], zp_term(p, affine, xs[r][g - g0]));
      total[r] = _mm256_add_ps(total[r], _mm256_mul_ps(_mm256_cvtepi32_ps(a), sc));
    }
    p += tail;
  }
  for (size_t r = 0; r < mr; r++) _mm256_storeu_ps(total_io[r], total[r]);
}

/* Stores the valid lanes of a panel's 8 outputs. */
static inline void store_panel(float* y, size_t valid, __m256 out) {
  if (valid >= QB_NR) {
    _mm256_storeu_ps(y, out);
    return;
  }
  float lanes[QB_NR];
  _mm256_storeu_ps(lanes, out);
  memcpy(y, lanes, valid * sizeof(float));
}

/* One row (GEMV) when K and the group length are multiples of 32 (no block crosses
 * K, every group has nb blocks): QB_GEMV_PANELS panels at a time, sharing each
 * broadcast of x, one int16 chain per panel. Each weight byte is read once, in
 * QB_GEMV_PANELS sequential streams (more streams in flight than one panel after
 * another); software prefetch measured slower than the hardware prefetcher here
 * (Zen 3). Panels past N repeat the last one and are not stored. */
static void gemv_row(size_t N, size_t K, size_t G, bool affine, const int8_t* x, float sx,
                     const int32_t* xsum, const uint8_t* packed, size_t panel_bytes, float* y) {
  const size_t tail = qb_q4_8c4_group_tail(affine);
  const size_t glen = G < K ? G : K, ngroups = K / glen, nb = glen / 32;
  const size_t npanels = (N + QB_NR - 1) / QB_NR;
  const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  for (size_t q0 = 0; q0 < npanels; q0 += QB_GEMV_PANELS) {
    const uint8_t* p[QB_GEMV_PANELS];
    __m256 t[QB_GEMV_PANELS];
    for (size_t i = 0; i < QB_GEMV_PANELS; i++) {
      p[i] = packed + (q0 + i < npanels ? q0 + i : npanels - 1) * panel_bytes;
      t[i] = _mm256_setzero_ps();
    }
    const int8_t* xb = x;
    for (size_t g = 0; g < ngroups; g++) {
      __m256i a[QB_GEMV_PANELS];
      for (size_t i = 0; i < QB_GEMV_PANELS; i++) a[i] = _mm256_setzero_si256();
      for (size_t b = 0; b < nb; b++, xb += 32) {
        __m256i s[QB_GEMV_PANELS];
        for (size_t i = 0; i < QB_GEMV_PANELS; i++) s[i] = _mm256_setzero_si256();
        for (size_t v = 0; v < 4; v++) {
          const __m256i xl = broadcast_quad(xb + 4 * v), xh = broadcast_quad(xb + 16 + 4 * v);
          for (size_t i = 0; i < QB_GEMV_PANELS; i++) {
            const __m256i q = _mm256_loadu_si256((const __m256i*)(p[i] + 32 * v));
            s[i] = _mm256_add_epi16(s[i], _mm256_maddubs_epi16(_mm256_and_si256(q, low), xl));
            const __m256i qh = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
            s[i] = _mm256_add_epi16(s[i], _mm256_maddubs_epi16(qh, xh));
            keep_chain(&s[i]);
          }
        }
        for (size_t i = 0; i < QB_GEMV_PANELS; i++) {
          a[i] = _mm256_add_epi32(a[i], _mm256_madd_epi16(s[i], ones));
          p[i] += QB_BLOCK_BYTES;
        }
      }
      for (size_t i = 0; i < QB_GEMV_PANELS; i++) {
        const __m256i acc = _mm256_sub_epi32(a[i], zp_term(p[i], affine, xsum[g]));
        const __m256 sc = _mm256_loadu_ps((const float*)p[i]);
        t[i] = _mm256_add_ps(t[i], _mm256_mul_ps(_mm256_cvtepi32_ps(acc), sc));
        p[i] += tail;
      }
    }
    for (size_t i = 0; i < QB_GEMV_PANELS && q0 + i < npanels; i++) {
      const size_t n0 = (q0 + i) * QB_NR;
      store_panel(y + n0, N - n0, _mm256_mul_ps(_mm256_set1_ps(sx), t[i]));
    }
  }
}

#define QB_W4A8P_MR QB_MR
#define QB_W4A8P_TAIL_MR 1
#define QB_W4A8P_SYM_XSUM8
#define QB_W4A8P_GEMV_ROW gemv_row
/* One row at a time below a full tile when no block crosses K and every group has
 * whole blocks (gemv_row's preconditions). */
#define QB_W4A8P_GEMV_OK(M, K, G, ngroups) \
  ((M) < QB_MR && (K) % 32 == 0 && ((G) < (K) ? (G) : (K)) % 32 == 0 && (ngroups) <= QB_W4A8P_XSUM)
#define QB_W4A8P_WGEMM qb_qs8_q4_f32_wgemm_4x8c4__avx2
#include "wgemm/qb_w4a8_driver_packed.h"
