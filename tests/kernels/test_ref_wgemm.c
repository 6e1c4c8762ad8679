/* Scalar reference int4 weight-only GEMM (kernels/ref/wgemm__scalar.c).
 *
 * W4A32: y[m][n] = sum_g scale[n,g] * (sum_{k in g} x[m][k] * (float)(w[n][k] - zp[n,g]))
 *   fp32, k increasing inside a group, g increasing, each step one fmaf (libm's here,
 *   the reference's qb_fmaf there: the double-precision shortcut is checked too).
 * W4A8:  xq = clamp(round_half_even(x / sx), -127, 127), sx = amax / 127 (1 for a zero row)
 *   acc_g = sum xq * (w - zp) in int32; y = sx * (sum_g (float)acc_g * scale[n,g]).
 *
 * The spec check is bit-exact (memcmp) against a re-implementation written from the
 * header comment that works on the *unpacked* int weights (so the packed layout
 * is checked too); a double-precision dequantize-then-matmul within a relative
 * tolerance checks the semantics. Shapes: odd K (padded rows, with a garbage pad
 * nibble the kernel must ignore), K not a multiple of G (short last group),
 * G in {1, 3, 32, 64, 128}, ldx > K, ldy > N with untouched gaps and guard bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_kernels.h"
#include "qb_test.h"

typedef struct {
  size_t N, K, G, ngroups, row_bytes;
  int8_t* w;       /* N x K int values: -8..7 (symmetric) or 0..15 (affine) */
  int8_t* zp;      /* N x ngroups, NULL when symmetric */
  float* scale;    /* N x ngroups */
  uint8_t* packed; /* N x row_bytes, exactly sized heap buffer */
} weights;

static weights make_weights(size_t N, size_t K, size_t G, int affine, int extreme) {
  weights W;
  W.N = N;
  W.K = K;
  W.G = G;
  W.ngroups = (K + G - 1) / G;
  W.row_bytes = (K + 1) / 2;
  W.w = malloc(N * K + 1);
  W.zp = affine ? malloc(N * W.ngroups) : NULL;
  W.scale = malloc(N * W.ngroups * sizeof(float) + 1);
  W.packed = malloc(N * W.row_bytes + 1);
  for (size_t i = 0; i < N * K; i++) {
    if (extreme) W.w[i] = (int8_t)(affine ? (qb_rand_below(2) ? 0 : 15) : (qb_rand_below(2) ? -8 : 7));
    else W.w[i] = (int8_t)(affine ? qb_rand_range(0, 15) : qb_rand_range(-8, 7));
  }
  for (size_t i = 0; i < N * W.ngroups; i++) {
    W.scale[i] = qb_rand_uniform(0.001f, 0.1f);
    if (affine) W.zp[i] = (int8_t)(extreme ? (qb_rand_below(2) ? 0 : 15) : qb_rand_range(0, 15));
  }
  for (size_t n = 0; n < N; n++) {
    if (affine) qb_qu8_q4_pack__scalar(K, (const uint8_t*)W.w + n * K, W.packed + n * W.row_bytes);
    else qb_qs8_q4_pack__scalar(K, W.w + n * K, W.packed + n * W.row_bytes);
    /* odd K: put garbage in the pad nibble; the kernel must not read it as a weight */
    if (K % 2) W.packed[n * W.row_bytes + W.row_bytes - 1] |= 0xF0;
  }
  return W;
}

static void free_weights(weights* W) {
  free(W->w);
  free(W->zp);
  free(W->scale);
  free(W->packed);
}

static int32_t wv(const weights* W, size_t n, size_t k) {
  const int32_t zp = W->zp ? W->zp[n * W->ngroups + k / W->G] : 0;
  return (int32_t)W->w[n * W->K + k] - zp;
}

/* The documented fp32 order, from unpacked weights. */
static void model_w4a32(size_t M, const weights* W, const float* x, size_t ldx, float* y, size_t ldy) {
  for (size_t m = 0; m < M; m++)
    for (size_t n = 0; n < W->N; n++) {
      float total = 0.0f;
      for (size_t g = 0; g < W->ngroups; g++) {
        float group_sum = 0.0f;
        for (size_t k = g * W->G; k < W->K && k < (g + 1) * W->G; k++) {
          group_sum = fmaf(x[m * ldx + k], (float)wv(W, n, k), group_sum);
        }
        total = fmaf(W->scale[n * W->ngroups + g], group_sum, total);
      }
      y[m * ldy + n] = total;
    }
}

static void model_w4a8(size_t M, const weights* W, const int8_t* xq, const float* sx, float* y,
                       size_t ldy) {
  for (size_t m = 0; m < M; m++)
    for (size_t n = 0; n < W->N; n++) {
      float total = 0.0f;
      for (size_t g = 0; g < W->ngroups; g++) {
        int32_t acc = 0;
        for (size_t k = g * W->G; k < W->K && k < (g + 1) * W->G; k++)
          acc += (int32_t)xq[m * W->K + k] * wv(W, n, k);
        const float scaled = (float)acc * W->scale[n * W->ngroups + g];
        total = total + scaled;
      }
      y[m * ldy + n] = sx[m] * total;
    }
}

/* Dequantize then matmul in double; also returns sum |terms| for the tolerance. */
static double dequant_matmul(const weights* W, const float* xrow, size_t n, double* abs_sum) {
  double s = 0.0, a = 0.0;
  for (size_t k = 0; k < W->K; k++) {
    const double t = (double)xrow[k] * (double)W->scale[n * W->ngroups + k / W->G] * wv(W, n, k);
    s += t;
    a += fabs(t);
  }
  *abs_sum = a;
  return s;
}

/* Compares M x N floats bit for bit; checks the ldy gaps kept 0xA5. */
static int compare_y(const float* got, const float* want, size_t M, size_t N, size_t ldy) {
  int bad = 0;
  for (size_t m = 0; m < M; m++) {
    if (memcmp(got + m * ldy, want + m * ldy, N * sizeof(float)) != 0) bad++;
    const uint8_t* gap = (const uint8_t*)(got + m * ldy + N);
    for (size_t b = 0; b < (ldy - N) * sizeof(float); b++) bad += gap[b] != 0xA5;
  }
  return bad;
}

static void test_hand(void) {
  /* M = N = 1, K = 3, G = 2 (a short last group). x = [1, 2, 3], weights
   * w - zp = [1, -2, 3], scale = {0.5, 0.25}:
   *   group 0: 1*1 + 2*(-2) = -3 -> 0.5 * -3 = -1.5
   *   group 1: 3*3 = 9           -> 0.25 * 9 = 2.25      y = -1.5 + 2.25 = 0.75
   * Symmetric nibbles: 1 = 0x1, -2 = 0xE, 3 = 0x3 -> bytes {0xE1, 0x03}.
   * Affine, zp {8, 8}: nibbles 9, 6, 11 -> bytes {0x69, 0x0B}. */
  const float x[3] = {1.0f, 2.0f, 3.0f}, scale[2] = {0.5f, 0.25f};
  const uint8_t wsym[2] = {0xE1, 0x03}, waff[2] = {0x69, 0x0B};
  const int8_t zp[2] = {8, 8};
  float y = 0.0f;
  qb_f32_q4_f32_wgemm__scalar(1, 1, 3, 2, x, 3, wsym, scale, NULL, &y, 1);
  QB_CHECK_EQ_F32(y, 0.75f);
  qb_f32_q4_f32_wgemm__scalar(1, 1, 3, 2, x, 3, waff, scale, zp, &y, 1);
  QB_CHECK_EQ_F32(y, 0.75f);
  /* the packers produce those bytes */
  const int8_t ws[3] = {1, -2, 3};
  const uint8_t wa[3] = {9, 6, 11};
  uint8_t p[2];
  qb_qs8_q4_pack__scalar(3, ws, p);
  QB_CHECK_EQ_INT(p[0], 0xE1);
  QB_CHECK_EQ_INT(p[1], 0x03);
  qb_qu8_q4_pack__scalar(3, wa, p);
  QB_CHECK_EQ_INT(p[0], 0x69);
  QB_CHECK_EQ_INT(p[1], 0x0B);
  /* the group zero point applies per group: zp {8, 10} makes w3 - zp = 1, so
   * group 1 = 3*1 = 3 -> 0.75, y = -1.5 + 0.75 = -0.75 */
  const int8_t zp2[2] = {8, 10};
  qb_f32_q4_f32_wgemm__scalar(1, 1, 3, 2, x, 3, waff, scale, zp2, &y, 1);
  QB_CHECK_EQ_F32(y, -0.75f);
  /* -8 and 7: x = [1, 1], w = {-8, 7} (byte 0x78), G = 1, scale {1, 2}: -8 + 14 = 6 */
  const uint8_t w87 = 0x78;
  const float x11[2] = {1.0f, 1.0f}, s12[2] = {1.0f, 2.0f};
  qb_f32_q4_f32_wgemm__scalar(1, 1, 2, 1, x11, 2, &w87, s12, NULL, &y, 1);
  QB_CHECK_EQ_F32(y, 6.0f);

  /* W4A8, same weights, xq = [1, 2, 3], sx = 0.5: acc = {-3, 9},
   * total = -3*0.5 + 9*0.25 = 0.75, y = 0.5 * 0.75 = 0.375 */
  const int8_t xq[3] = {1, 2, 3};
  const float sx = 0.5f;
  qb_qs8_q4_f32_wgemm__scalar(1, 1, 3, 2, xq, &sx, wsym, scale, NULL, &y, 1);
  QB_CHECK_EQ_F32(y, 0.375f);
  qb_qs8_q4_f32_wgemm__scalar(1, 1, 3, 2, xq, &sx, waff, scale, zp, &y, 1);
  QB_CHECK_EQ_F32(y, 0.375f);
  /* extreme: xq = 127 x 2, w = -8, 7 -> 127 * (-8) + 127 * 7 = -127 at G = 2, scale 1, sx 1 */
  const int8_t xq127[2] = {127, 127};
  const float one = 1.0f;
  qb_qs8_q4_f32_wgemm__scalar(1, 1, 2, 2, xq127, &one, &w87, &one, NULL, &y, 1);
  QB_CHECK_EQ_F32(y, -127.0f);
}

static void test_rowquantize_hand(void) {
  /* Row 0: amax 127 -> sx = 1: [127, -63.5, 0.5, -1.5, 2.5] -> [127, -64, 0, -2, 2]
   *   (ties to even). Row 1: amax 254 -> sx = 2: [-254, 1, 3, 5, -1] ->
   *   [-127, 0 (0.5), 2 (1.5), 2 (2.5), 0 (-0.5)]. Row 2: all zero (incl. -0) -> sx = 1, zeros.
   * ldx = 6 (one padding float, 1e30, which must not influence amax). */
  const float x[3 * 6] = {127.0f, -63.5f, 0.5f, -1.5f, 2.5f, 1e30f,
                          -254.0f, 1.0f, 3.0f, 5.0f, -1.0f, 1e30f,
                          0.0f, -0.0f, 0.0f, 0.0f, -0.0f, 1e30f};
  const int8_t want[15] = {127, -64, 0, -2, 2, -127, 0, 2, 2, 0, 0, 0, 0, 0, 0};
  int8_t* xq = qb_guard_alloc(15);
  float* sx = qb_guard_alloc(3 * sizeof(float));
  qb_f32_qs8_rowquantize__scalar(3, 5, x, 6, xq, sx);
  QB_CHECK_EQ_F32(sx[0], 1.0f);
  QB_CHECK_EQ_F32(sx[1], 2.0f);
  QB_CHECK_EQ_F32(sx[2], 1.0f);
  for (int i = 0; i < 15; i++) QB_CHECK_EQ_INT(xq[i], want[i]);
  qb_guard_check(xq, 15, "rowquantize xq");
  qb_guard_check(sx, 3 * sizeof(float), "rowquantize sx");
  qb_guard_free(xq);
  qb_guard_free(sx);
}

/* Random rows: sx = amax / 127 (bit-exact), amax entries hit +-127, every xq equals
 * round_half_even(x / sx) (written by hand) within -127..127. */
static int check_rowquantize(size_t M, size_t K, size_t ldx, const float* x, const int8_t* xq,
                             const float* sx) {
  int bad = 0;
  for (size_t m = 0; m < M; m++) {
    float amax = 0.0f;
    for (size_t k = 0; k < K; k++) amax = fabsf(x[m * ldx + k]) > amax ? fabsf(x[m * ldx + k]) : amax;
    const float want_sx = amax > 0.0f ? amax / 127.0f : 1.0f;
    if (memcmp(&sx[m], &want_sx, sizeof(float)) != 0) bad++;
    for (size_t k = 0; k < K; k++) {
      const float v = x[m * ldx + k];
      const double qd = (double)(v / want_sx);
      double r = floor(qd);
      if (qd - r > 0.5 || (qd - r == 0.5 && fmod(r, 2.0) != 0.0)) r += 1.0;
      r = r < -127 ? -127 : (r > 127 ? 127 : r);
      if (xq[m * K + k] != (int8_t)r) bad++;
      if (amax > 0.0f && fabsf(v) == amax && xq[m * K + k] != (v > 0 ? 127 : -127)) bad++;
    }
  }
  return bad;
}

static const size_t Ks[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 129, 255, 257};
static const size_t Gs[] = {1, 3, 32, 64, 128};
static const size_t Ms[] = {1, 2, 3, 5};
static const size_t Ns[] = {1, 3, 7, 16, 17};
#define COUNT(a) (sizeof a / sizeof a[0])

static void test_shapes(void) {
  int bad_a32 = 0, bad_a8 = 0, bad_tol = 0, bad_rq = 0;
  for (size_t ki = 0; ki < COUNT(Ks); ki++)
    for (size_t gi = 0; gi < COUNT(Gs); gi++)
      for (int affine = 0; affine < 2; affine++) {
        const size_t K = Ks[ki], G = Gs[gi];
        const size_t M = Ms[qb_rand_below(COUNT(Ms))], N = Ns[qb_rand_below(COUNT(Ns))];
        const size_t ldx = K + 1 + qb_rand_below(4), ldy = N + qb_rand_below(3);
        const int extreme = qb_rand_below(5) == 0;
        weights W = make_weights(N, K, G, affine, extreme);
        float* x = malloc(M * ldx * sizeof(float));
        for (size_t i = 0; i < M * ldx; i++)
          x[i] = (i % ldx < K) ? (extreme ? (qb_rand_below(2) ? -4.0f : 4.0f) : qb_rand_normal())
                               : 1e30f; /* padding poisons any read past K */
        if (M > 1) /* a zero row for rowquantize */
          for (size_t k = 0; k < K; k++) x[ldx + k] = 0.0f;

        /* W4A32 */
        float* y = qb_guard_alloc(M * ldy * sizeof(float));
        float* want = malloc(M * ldy * sizeof(float));
        qb_f32_q4_f32_wgemm__scalar(M, N, K, G, x, ldx, W.packed, W.scale, W.zp, y, ldy);
        qb_guard_check(y, M * ldy * sizeof(float), "w4a32 y");
        model_w4a32(M, &W, x, ldx, want, ldy);
        const int b = compare_y(y, want, M, N, ldy);
        if (b && bad_a32 < 5)
          fprintf(stderr, "w4a32 M=%zu N=%zu K=%zu G=%zu affine=%d: mismatch\n", M, N, K, G, affine);
        bad_a32 += b;
        for (size_t m = 0; m < M; m++)
          for (size_t n = 0; n < N; n++) {
            double abs_sum;
            const double ref = dequant_matmul(&W, x + m * ldx, n, &abs_sum);
            /* fp32 sum of K + ngroups terms: error well below (K + 2) * 2^-23 * sum|t| */
            if (fabs((double)y[m * ldy + n] - ref) > (double)(K + 2) * 0x1p-23 * abs_sum + 1e-30) bad_tol++;
          }

        /* W4A8: rowquantize then wgemm */
        int8_t* xq = qb_guard_alloc(M * K);
        float* sx = qb_guard_alloc(M * sizeof(float));
        qb_f32_qs8_rowquantize__scalar(M, K, x, ldx, xq, sx);
        qb_guard_check(xq, M * K, "xq");
        qb_guard_check(sx, M * sizeof(float), "sx");
        bad_rq += check_rowquantize(M, K, ldx, x, xq, sx);
        if (M > 1) QB_CHECK_EQ_F32(sx[1], 1.0f);
        float* y8 = qb_guard_alloc(M * ldy * sizeof(float));
        qb_qs8_q4_f32_wgemm__scalar(M, N, K, G, xq, sx, W.packed, W.scale, W.zp, y8, ldy);
        qb_guard_check(y8, M * ldy * sizeof(float), "w4a8 y");
        model_w4a8(M, &W, xq, sx, want, ldy);
        const int b8 = compare_y(y8, want, M, N, ldy);
        if (b8 && bad_a8 < 5)
          fprintf(stderr, "w4a8 M=%zu N=%zu K=%zu G=%zu affine=%d: mismatch\n", M, N, K, G, affine);
        bad_a8 += b8;

        qb_guard_free(y);
        qb_guard_free(y8);
        qb_guard_free(xq);
        qb_guard_free(sx);
        free(want);
        free(x);
        free_weights(&W);
      }
  QB_CHECK_EQ_INT(bad_a32, 0);
  QB_CHECK_EQ_INT(bad_a8, 0);
  QB_CHECK_EQ_INT(bad_tol, 0);
  QB_CHECK_EQ_INT(bad_rq, 0);
}

/* M = 0 or N = 0: nothing written. */
static void test_zero_dims(void) {
  weights W = make_weights(4, 8, 4, 0, 0);
  const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const int8_t xq[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const float sx = 1.0f;
  float* y = qb_guard_alloc(16 * sizeof(float));
  qb_f32_q4_f32_wgemm__scalar(0, 4, 8, 4, x, 8, W.packed, W.scale, NULL, y, 4);
  qb_f32_q4_f32_wgemm__scalar(1, 0, 8, 4, x, 8, W.packed, W.scale, NULL, y, 4);
  qb_qs8_q4_f32_wgemm__scalar(0, 4, 8, 4, xq, &sx, W.packed, W.scale, NULL, y, 4);
  qb_qs8_q4_f32_wgemm__scalar(1, 0, 8, 4, xq, &sx, W.packed, W.scale, NULL, y, 4);
  const uint8_t* bytes = (const uint8_t*)y;
  for (size_t i = 0; i < 16 * sizeof(float); i++) QB_CHECK_EQ_INT(bytes[i], 0xA5);
  qb_guard_check(y, 16 * sizeof(float), "zero-dim y");
  qb_guard_free(y);
  free_weights(&W);
}

int main(void) {
  qb_test_seed(1234567);
  test_hand();
  test_rowquantize_hand();
  test_shapes();
  test_zero_dims();
  return qb_test_finish("test_ref_wgemm");
}
