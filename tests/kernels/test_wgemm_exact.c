/* Exactness of every W4A8 kernel pair (row quantization + int4-weight GEMM/GEMV, on the
 * reference layout or on the entry's packed weights, whole and in column slices) and
 * every W4A32 kernel (fp32 activations) in the dispatch lists against the scalar
 * reference, bit for bit (fp32 outputs compared by representation): M = 1 (GEMV),
 * every M up to 9 (two 4-row tiles + 1) and larger M, N and K over tail sizes, group
 * sizes 1..128 including odd ones and G >= K, enough groups to exceed a kernel's
 * on-stack group chunk, symmetric (signed nibbles) and affine (zero points 0..15)
 * weights, random and all-extreme nibbles and activations (-128 too), garbage in the
 * padding nibble of odd-K rows, strided outputs (gaps checked). Weights and
 * activations end at an inaccessible page; outputs have 0xA5 guard bytes. */
#include <math.h>
#include <stdio.h>

#include "qb_exact_util.h"
#include "qb_kernels.h"

typedef enum { FILL_RANDOM, FILL_EXTREME, FILL_COUNT } fill_mode;

typedef struct {
  size_t M, N, K, G, ldy;
  bool affine;
  fill_mode fill;
} shape;

static int printed = 0;

/* The entry on the reference layout, or (packing entries) on weights packed first,
 * the way the model runtime and the bench call it: columns [0, n0) and [n0, N) as
 * two calls on slices of one packed buffer (n0 the largest multiple of nr below N),
 * so a slice's offset packed_size(n0, K, G, affine) is checked too. The packed buffer ends
 * at an inaccessible page. */
static void run_w4a8(const qb_qs8_q4_f32_wgemm_entry* e, size_t M, size_t N, size_t K, size_t G,
                     const int8_t* xq, const float* sx, const uint8_t* w, const float* scale,
                     const int8_t* z, float* y, size_t ldy) {
  if (!e->pack) {
    e->wgemm(M, N, K, G, xq, sx, w, scale, z, y, ldy);
    return;
  }
  qb_tail_buf tp;
  const bool affine = z != NULL;
  uint8_t* packed = qb_tail_alloc(&tp, e->packed_size(N, K, G, affine));
  e->pack(N, K, G, w, scale, z, packed);
  const size_t n0 = N > e->nr ? (N - 1) / e->nr * e->nr : 0;
  if (n0) e->run_packed(M, n0, K, G, affine, xq, sx, packed, y, ldy);
  e->run_packed(M, N - n0, K, G, affine, xq, sx, packed + e->packed_size(n0, K, G, affine), y + n0,
                ldy);
  qb_tail_free(&tp);
}

static void check_wgemm(const qb_qs8_q4_f32_wgemm_entry* e, const shape* s) {
  const size_t M = s->M, N = s->N, K = s->K, G = s->G;
  const size_t ngroups = (K + G - 1) / G, row_bytes = (K + 1) / 2;
  qb_tail_buf tw, tx;
  uint8_t* w = qb_tail_alloc(&tw, N * row_bytes);
  int8_t* xq = qb_tail_alloc(&tx, M * K);
  for (size_t i = 0; i < N * row_bytes; i++)
    w[i] = s->fill == FILL_EXTREME ? (uint8_t)(qb_rand_below(2) ? 0x88 : (s->affine ? 0xFF : 0x77))
                                   : (uint8_t)qb_rand_below(256);
  for (size_t i = 0; i < M * K; i++)
    xq[i] = s->fill == FILL_EXTREME ? (int8_t)(qb_rand_below(2) ? -128 : 127) : (int8_t)qb_rand_range(-127, 127);
  float* scale = malloc((N * ngroups + 1) * sizeof(float));
  int8_t* zp = malloc(N * ngroups + 1);
  float* sx = malloc((M + 1) * sizeof(float));
  for (size_t i = 0; i < N * ngroups; i++) {
    scale[i] = qb_rand_uniform(1e-4f, 0.05f) * (qb_rand_below(8) ? 1.0f : -1.0f);
    zp[i] = (int8_t)(s->fill == FILL_EXTREME ? (qb_rand_below(2) ? 0 : 15) : qb_rand_range(0, 15));
  }
  for (size_t m = 0; m < M; m++) sx[m] = qb_rand_uniform(1e-3f, 1.0f);
  const int8_t* z = s->affine ? zp : NULL;

  const size_t y_elems = M ? (M - 1) * s->ldy + N : 0;
  float* ref = malloc((y_elems + 1) * sizeof(float));
  memset(ref, 0xA5, y_elems * sizeof(float));
  float* got = qb_guard_alloc(y_elems * sizeof(float));
  qb_qs8_q4_f32_wgemm__scalar(M, N, K, G, xq, sx, w, scale, z, ref, s->ldy);
  run_w4a8(e, M, N, K, G, xq, sx, w, scale, z, got, s->ldy);
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < y_elems; i++)
    if (memcmp(&got[i], &ref[i], sizeof(float)) != 0 && bad++ == 0) first = i;
  QB_CHECK_MSG(bad == 0, "%s M=%zu N=%zu K=%zu G=%zu ldy=%zu affine=%d fill=%d: %zu differ, "
               "first y[%zu][%zu] got %.9g expected %.9g", e->info.name, M, N, K, G, s->ldy,
               (int)s->affine, (int)s->fill, bad, bad ? first / s->ldy : 0, bad ? first % s->ldy : 0,
               bad ? (double)got[first] : 0.0, bad ? (double)ref[first] : 0.0);
  qb_guard_check(got, y_elems * sizeof(float), "wgemm output");
  if (bad && ++printed > 20) exit(qb_test_finish("test_wgemm_exact"));
  qb_guard_free(got);
  free(ref);
  free(sx);
  free(zp);
  free(scale);
  qb_tail_free(&tx);
  qb_tail_free(&tw);
}

/* W4A32: the same shapes with fp32 activations (row stride ldx = K + 1 on odd M). */
static void check_w4a32(const qb_f32_q4_f32_wgemm_entry* e, const shape* s) {
  const size_t M = s->M, N = s->N, K = s->K, G = s->G, ldx = K + (M % 2 ? 0 : 1);
  const size_t ngroups = (K + G - 1) / G, row_bytes = (K + 1) / 2;
  qb_tail_buf tw, tx;
  uint8_t* w = qb_tail_alloc(&tw, N * row_bytes);
  float* x = qb_tail_alloc(&tx, (M ? (M - 1) * ldx + K : 0) * sizeof(float));
  for (size_t i = 0; i < N * row_bytes; i++)
    w[i] = s->fill == FILL_EXTREME ? (uint8_t)(qb_rand_below(2) ? 0x88 : (s->affine ? 0xFF : 0x77))
                                   : (uint8_t)qb_rand_below(256);
  for (size_t i = 0; M && i < (M - 1) * ldx + K; i++)
    x[i] = s->fill == FILL_EXTREME ? (qb_rand_below(2) ? 3e30f : -1e-30f) : qb_rand_normal() * 2.0f;
  float* scale = malloc((N * ngroups + 1) * sizeof(float));
  int8_t* zp = malloc(N * ngroups + 1);
  for (size_t i = 0; i < N * ngroups; i++) {
    scale[i] = qb_rand_uniform(1e-4f, 0.05f) * (qb_rand_below(8) ? 1.0f : -1.0f);
    zp[i] = (int8_t)qb_rand_range(0, 15);
  }
  const int8_t* z = s->affine ? zp : NULL;
  const size_t y_elems = M ? (M - 1) * s->ldy + N : 0;
  float* ref = malloc((y_elems + 1) * sizeof(float));
  memset(ref, 0xA5, y_elems * sizeof(float));
  float* got = qb_guard_alloc(y_elems * sizeof(float));
  qb_f32_q4_f32_wgemm__scalar(M, N, K, G, x, ldx, w, scale, z, ref, s->ldy);
  e->wgemm(M, N, K, G, x, ldx, w, scale, z, got, s->ldy);
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < y_elems; i++)
    if (memcmp(&got[i], &ref[i], sizeof(float)) != 0 && bad++ == 0) first = i;
  QB_CHECK_MSG(bad == 0, "%s M=%zu N=%zu K=%zu G=%zu ldy=%zu affine=%d fill=%d: %zu differ, "
               "first y[%zu][%zu] got %.9g expected %.9g", e->info.name, M, N, K, G, s->ldy,
               (int)s->affine, (int)s->fill, bad, bad ? first / s->ldy : 0, bad ? first % s->ldy : 0,
               bad ? (double)got[first] : 0.0, bad ? (double)ref[first] : 0.0);
  qb_guard_check(got, y_elems * sizeof(float), "w4a32 output");
  if (bad && ++printed > 20) exit(qb_test_finish("test_wgemm_exact"));
  qb_guard_free(got);
  free(ref);
  free(zp);
  free(scale);
  qb_tail_free(&tx);
  qb_tail_free(&tw);
}

static void check_rowquantize(const qb_qs8_q4_f32_wgemm_entry* e, size_t M, size_t K, size_t ldx,
                              int fill) {
  qb_tail_buf tb;
  float* x = qb_tail_alloc(&tb, (M ? (M - 1) * ldx + K : 0) * sizeof(float));
  for (size_t m = 0; m < M; m++)
    for (size_t k = 0; k < (m + 1 < M ? ldx : K); k++) {
      float v = qb_rand_normal() * 3.0f;
      if (fill == 1) v = ((float)qb_rand_range(-127, 127) + 0.5f) * 0.25f; /* ties at amax = 31.75 */
      if (fill == 2) v = (m % 2 == 0) ? 0.0f : -0.0f;                      /* zero rows: sx = 1 */
      x[m * ldx + k] = v;
    }
  if (fill == 1)
    for (size_t m = 0; m < M && K; m++) x[m * ldx + qb_rand_below((uint32_t)K)] = -31.75f;
  int8_t* ref = malloc(M * K + 1);
  int8_t* got = qb_guard_alloc(M * K);
  float* sref = malloc((M + 1) * sizeof(float));
  float* sgot = qb_guard_alloc(M * sizeof(float));
  qb_f32_qs8_rowquantize__scalar(M, K, x, ldx, ref, sref);
  e->rowquantize(M, K, x, ldx, got, sgot);
  QB_CHECK_MSG(memcmp(ref, got, M * K) == 0, "%s rowquantize xq M=%zu K=%zu fill=%d", e->info.name, M, K, fill);
  QB_CHECK_MSG(memcmp(sref, sgot, M * sizeof(float)) == 0, "%s rowquantize sx M=%zu K=%zu fill=%d",
               e->info.name, M, K, fill);
  qb_guard_check(got, M * K, "xq");
  qb_guard_check(sgot, M * sizeof(float), "sx");
  qb_guard_free(sgot);
  free(sref);
  qb_guard_free(got);
  free(ref);
  qb_tail_free(&tb);
}

static const size_t ndims[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 65};
static const size_t kdims[] = {1, 2, 3, 5, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 300};
static const size_t gsizes[] = {1, 2, 3, 4, 8, 16, 31, 32, 33, 64, 128};

typedef void (*checker)(const void* entry, const shape* s);
static void check_w4a8_any(const void* e, const shape* s) { check_wgemm(e, s); }
static void check_w4a32_any(const void* e, const shape* s) { check_w4a32(e, s); }

static void run_shapes(const void* e, checker check) {
  size_t sweep = 0;
  for (size_t ik = 0; ik < sizeof kdims / sizeof kdims[0]; ik++)
    for (size_t ig = 0; ig < sizeof gsizes / sizeof gsizes[0]; ig++)
      for (size_t in = 0; in < sizeof ndims / sizeof ndims[0]; in += 2, sweep++) {
        const size_t N = ndims[(in + ik) % (sizeof ndims / sizeof ndims[0])];
        shape s = {sweep % 4 == 3 ? 3 : 1, N, kdims[ik], gsizes[ig], N + (sweep % 3 == 1 ? 3 : 0),
                   sweep % 2 == 1, sweep % 7 == 5 ? FILL_EXTREME : FILL_RANDOM};
        check(e, &s);
      }
  /* G >= K (one group), many groups (beyond an on-stack chunk: 8300 groups of 1 exceed
   * the packed kernel's 8192 activation sums), all-extreme values. */
  const size_t big[][3] = {{7, 100, 100}, {5, 64, 1000}, {9, 2000, 2}, {4, 4100, 4}, {3, 4096, 32},
                           {17, 1111, 2}, {64, 4096, 128}, {9, 8300, 1}};
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
    for (int a = 0; a < 2; a++)
      for (int f = 0; f < FILL_COUNT; f++) {
        shape s = {1 + (size_t)f, big[i][0], big[i][1], big[i][2], big[i][0] + (size_t)a, a == 1, (fill_mode)f};
        check(e, &s);
      }
  /* More rows than a row chunk of the blocked kernels (16), groups longer than 8
   * blocks of 32 (int16 partial sums flushed), one group of 4096 and one too long
   * for the on-stack unpacked block (4128: the 1x4 path). */
  const size_t rows[][4] = {{17, 19, 512, 32}, {33, 16, 1024, 512}, {18, 24, 4096, 4096},
                            {20, 8, 4128, 8192}, {16, 40, 320, 64}, {6, 9, 8300, 1}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    for (int f = 0; f < FILL_COUNT; f++) {
      shape s = {rows[i][0], rows[i][1], rows[i][2], rows[i][3], rows[i][1] + (size_t)f, f == 1, (fill_mode)f};
      check(e, &s);
    }
  /* Every row count up to two 4-row tiles + 1 (full tiles, row pairs and an odd last
   * row of the i8mm kernel), K = 13 M + 5 (every K mod 8 and mod 32: the 8-k
   * octets of SMMLA, blocks crossing K), even and odd group sizes. */
  for (size_t M = 1; M <= 9; M++)
    for (int f = 0; f < FILL_COUNT; f++) {
      shape s = {M, 7 + M, 13 * M + 5, M % 3 == 0 ? 7 : (M % 3 == 1 ? 16 : 40), 7 + M + (size_t)f,
                 (M + (size_t)f) % 2 == 0, (fill_mode)f};
      check(e, &s);
    }
  /* Zero dims. */
  shape z1 = {0, 5, 32, 32, 5, false, FILL_RANDOM}, z2 = {2, 0, 32, 32, 1, true, FILL_RANDOM};
  check(e, &z1);
  check(e, &z2);
  /* Random shapes. */
  for (int r = 0; r < 60; r++) {
    const size_t K = 1 + qb_rand_below(r % 5 == 0 ? 3000 : 300), N = 1 + qb_rand_below(70);
    const size_t G = qb_rand_below(3) ? (size_t)(2u << qb_rand_below(7)) : 1 + qb_rand_below(70);
    shape s = {1 + qb_rand_below(4), N, K, G, N + qb_rand_below(4), qb_rand_below(2), (fill_mode)qb_rand_below(FILL_COUNT)};
    check(e, &s);
  }
}

static void run_entry(const qb_qs8_q4_f32_wgemm_entry* e) {
  run_shapes(e, check_w4a8_any);
  for (size_t t = 0; t < QB_TAIL_SIZES_COUNT; t++)
    for (int fill = 0; fill < 3; fill++) {
      const size_t K = qb_tail_sizes[t];
      check_rowquantize(e, 1 + (size_t)fill, K, K + (size_t)fill, fill);
    }
}

static const qb_kernel_info* table_w4a8(const qb_dispatch_table* t) { return &t->qs8_q4_f32_wgemm->info; }
static const qb_kernel_info* table_w4a32(const qb_dispatch_table* t) { return &t->f32_q4_f32_wgemm->info; }

int main(void) {
  qb_test_seed(20261203);
  size_t n, simd = 0;
  const qb_qs8_q4_f32_wgemm_entry* list = qb_qs8_q4_f32_wgemm_entries(&n);
  qb_check_family_list("qs8_q4_f32_wgemm", list, n, sizeof list[0], table_w4a8);
  for (size_t i = 0; i < n; i++)
    if (qb_entry_usable(&list[i].info)) {
      run_entry(&list[i]);
      simd += list[i].info.backend != QB_BACKEND_SCALAR;
    }
  const qb_f32_q4_f32_wgemm_entry* l32 = qb_f32_q4_f32_wgemm_entries(&n);
  qb_check_family_list("f32_q4_f32_wgemm", l32, n, sizeof l32[0], table_w4a32);
  for (size_t i = 0; i < n; i++)
    if (qb_entry_usable(&l32[i].info)) run_shapes(&l32[i], check_w4a32_any);
  const int status = qb_test_finish("test_wgemm_exact");
  if (status == 0 && simd == 0) qb_test_skip("no SIMD backend usable: only the scalar entries ran");
  return status;
}
