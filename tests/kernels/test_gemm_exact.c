/* Exactness of every int8 GEMM kernel in the dispatch lists against the scalar
 * reference (qb_*_gemm__scalar), bit for bit, through its own pack + run:
 * tail shapes (1..10, 15-17, 31-33, 63-65 in M, N, K), zero dims, prime strides,
 * zero-point sweeps (also a run-time zero point different from the packing one),
 * all-extreme values, symmetric weights (every zb the kind's zero: no row sums),
 * random shapes from a printed seed. A's last row ends at a page boundary followed
 * by an inaccessible page (so does B's); C and the packed buffer have 0xA5 guard
 * bytes, and the gaps between C rows (ldc > N) are checked.
 * Non-exact kernels (avx2-sat) are checked for exactness where their saturation
 * counter is zero, and for counting > 0 and differing on an all-extreme case. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qb_dispatch.h"
#include "qb_kernels.h"
#include "qb_test.h"

typedef enum { FAM_QU8_QS8, FAM_QS8_QS8, FAM_QU8_QU8 } family;
static const char* const family_names[] = {"qu8_qs8", "qs8_qs8", "qu8_qu8"};

typedef struct {
  family fam;
  const void* entry;
  const qb_gemm_info* info;
} kernel;

/* ------------------------------------------------------------------ buffers */
/* `bytes` bytes whose end is the start of a PROT_NONE page. */
typedef struct {
  void* map;
  size_t len;
  uint8_t* p;
} tail_buf;

static uint8_t* tail_alloc(tail_buf* t, size_t bytes) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  t->len = (bytes + page - 1) / page * page + page;
  t->map = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (t->map == MAP_FAILED) abort();
  if (mprotect((uint8_t*)t->map + t->len - page, page, PROT_NONE) != 0) abort();
  t->p = (uint8_t*)t->map + t->len - page - bytes;
  return t->p;
}
static void tail_free(tail_buf* t) { munmap(t->map, t->len); }

/* --------------------------------------------------------- family wrappers */
static void ref_gemm(family f, size_t M, size_t N, size_t K, const uint8_t* A, size_t lda,
                     int32_t za, const uint8_t* B, size_t ldb, const int32_t* zb, int32_t* C,
                     size_t ldc) {
  switch (f) {
    case FAM_QU8_QS8:
      qb_qu8_qs8_qs32_gemm__scalar(M, N, K, A, lda, za, (const int8_t*)B, ldb, zb, C, ldc);
      break;
    case FAM_QS8_QS8:
      qb_qs8_qs8_qs32_gemm__scalar(M, N, K, (const int8_t*)A, lda, za, (const int8_t*)B, ldb, zb,
                                   C, ldc);
      break;
    case FAM_QU8_QU8:
      qb_qu8_qu8_qs32_gemm__scalar(M, N, K, A, lda, za, B, ldb, zb, C, ldc);
      break;
  }
}

static void kernel_pack(const kernel* k, size_t N, size_t K, const uint8_t* B, size_t ldb,
                        const int32_t* zb, int32_t za, void* packed) {
  switch (k->fam) {
    case FAM_QU8_QS8:
      ((const qb_qu8_qs8_qs32_gemm_entry*)k->entry)->pack(N, K, (const int8_t*)B, ldb, zb, za, packed);
      break;
    case FAM_QS8_QS8:
      ((const qb_qs8_qs8_qs32_gemm_entry*)k->entry)->pack(N, K, (const int8_t*)B, ldb, zb, za, packed);
      break;
    case FAM_QU8_QU8:
      ((const qb_qu8_qu8_qs32_gemm_entry*)k->entry)->pack(N, K, B, ldb, zb, za, packed);
      break;
  }
}

static void kernel_run(const kernel* k, size_t M, size_t N, size_t K, const uint8_t* A,
                       size_t lda, int32_t za, const void* packed, int32_t* C, size_t ldc) {
  switch (k->fam) {
    case FAM_QU8_QS8:
      ((const qb_qu8_qs8_qs32_gemm_entry*)k->entry)->run(M, N, K, A, lda, za, packed, C, ldc);
      break;
    case FAM_QS8_QS8:
      ((const qb_qs8_qs8_qs32_gemm_entry*)k->entry)->run(M, N, K, (const int8_t*)A, lda, za, packed, C, ldc);
      break;
    case FAM_QU8_QU8:
      ((const qb_qu8_qu8_qs32_gemm_entry*)k->entry)->run(M, N, K, A, lda, za, packed, C, ldc);
      break;
  }
}

static uint64_t kernel_saturations(const kernel* k, size_t M, size_t N, size_t K, const uint8_t* A,
                                   size_t lda, const uint8_t* B, size_t ldb) {
  if (k->fam != FAM_QU8_QS8) return 0;
  const qb_qu8_qs8_qs32_gemm_entry* e = k->entry;
  return e->saturations ? e->saturations(M, N, K, A, lda, (const int8_t*)B, ldb) : 0;
}

/* ------------------------------------------------------------------- cases */
/* How A and B are filled. */
typedef enum {
  FILL_RANDOM,       /* full range */
  FILL_EXTREME_LO,   /* A at its max, B at its min: -128 signed, 0 unsigned */
  FILL_EXTREME_HI,   /* A at its max, B at its max */
  FILL_EXTREME_MIX,  /* A and B random among their two extremes */
  FILL_NOSAT_SMALLB, /* B in -64..64 (no int16 pair saturation, any A) */
  FILL_NOSAT_SMALLA, /* A <= 127 (unsigned) */
} fill_mode;

typedef struct {
  size_t M, N, K, lda, ldb, ldc;
  int32_t za_pack, za_run;
  fill_mode fill;
} shape;

static int printed_failures = 0;
static size_t kernels_run = 0, sat_cases = 0, sat_differs = 0;

static bool a_signed(family f) { return f == FAM_QS8_QS8; }
static bool b_unsigned(family f) { return f == FAM_QU8_QU8; }

static uint8_t gen_a(family f, fill_mode m) {
  const int lo = a_signed(f) ? -128 : 0, hi = a_signed(f) ? 127 : 255;
  switch (m) {
    case FILL_EXTREME_LO:
    case FILL_EXTREME_HI: return (uint8_t)hi;
    case FILL_EXTREME_MIX: return (uint8_t)(qb_rand_below(2) ? hi : lo);
    case FILL_NOSAT_SMALLA: return (uint8_t)qb_rand_range(0, 127);
    default: return (uint8_t)qb_rand_range(lo, hi);
  }
}

static uint8_t gen_b(family f, fill_mode m) {
  const int lo = b_unsigned(f) ? 0 : -128, hi = b_unsigned(f) ? 255 : 127;
  switch (m) {
    case FILL_EXTREME_LO: return (uint8_t)lo;
    case FILL_EXTREME_HI: return (uint8_t)hi;
    case FILL_EXTREME_MIX: return (uint8_t)(qb_rand_below(2) ? hi : lo);
    case FILL_NOSAT_SMALLB: return (uint8_t)qb_rand_range(-64, 64);
    default: return (uint8_t)qb_rand_range(lo, hi);
  }
}

/* Runs one shape through every usable kernel of the family. */
static void check_shape(family f, const kernel* ks, size_t nk, const shape* s) {
  const size_t M = s->M, N = s->N, K = s->K;
  tail_buf ta, tb;
  uint8_t* A = tail_alloc(&ta, M ? (M - 1) * s->lda + K : 0);
  uint8_t* B = tail_alloc(&tb, N ? (N - 1) * s->ldb + K : 0);
  for (size_t m = 0; m < M; m++)
    for (size_t k = 0; k < s->lda && (m + 1 < M || k < K); k++)
      A[m * s->lda + k] = k < K ? gen_a(f, s->fill) : 0x5A;
  for (size_t n = 0; n < N; n++)
    for (size_t k = 0; k < s->ldb && (n + 1 < N || k < K); k++)
      B[n * s->ldb + k] = k < K ? gen_b(f, s->fill) : 0x5A;
  int32_t* zb = malloc((N ? N : 1) * sizeof(int32_t));
  for (size_t n = 0; n < N; n++)
    zb[n] = b_unsigned(f) ? qb_rand_range(0, 255) : qb_rand_range(-128, 127);
  if (s->fill == FILL_EXTREME_LO || s->fill == FILL_EXTREME_HI)
    for (size_t n = 0; n < N; n++) zb[n] = (n & 1) ? (b_unsigned(f) ? 255 : 127) : (b_unsigned(f) ? 0 : -128);
  else if (qb_rand_range(0, 2) == 0) /* symmetric weights: the drivers skip A's row sums */
    for (size_t n = 0; n < N; n++) zb[n] = b_unsigned(f) ? 128 : 0;

  const size_t c_elems = M ? (M - 1) * s->ldc + N : 0;
  int32_t* ref = malloc((c_elems ? c_elems : 1) * sizeof(int32_t));
  ref_gemm(f, M, N, K, A, s->lda, s->za_run, B, s->ldb, zb, ref, s->ldc);

  for (size_t i = 0; i < nk; i++) {
    const kernel* k = &ks[i];
    const size_t psize = k->info->packed_size(N, K);
    void* packed = qb_guard_alloc(psize);
    kernel_pack(k, N, K, B, s->ldb, zb, s->za_pack, packed);
    qb_guard_check(packed, psize, "packed weights");
    int32_t* C = qb_guard_alloc(c_elems * sizeof(int32_t));
    kernel_run(k, M, N, K, A, s->lda, s->za_run, packed, C, s->ldc);
    kernels_run++;

    size_t bad = 0, bad_m = 0, bad_n = 0, gap_bad = 0;
    for (size_t m = 0; m < M; m++)
      for (size_t n = 0; n < s->ldc && m * s->ldc + n < c_elems; n++) {
        const int32_t got = C[m * s->ldc + n];
        if (n < N) {
          if (got != ref[m * s->ldc + n] && bad++ == 0) bad_m = m, bad_n = n;
        } else if ((uint32_t)got != 0xA5A5A5A5u) {
          gap_bad++;
        }
      }
    qb_guard_check(C, c_elems * sizeof(int32_t), "C");
    QB_CHECK_MSG(gap_bad == 0, "%s wrote between C rows (M=%zu N=%zu ldc=%zu)", k->info->name, M, N, s->ldc);

    const uint64_t sats = k->info->exact ? 0 : kernel_saturations(k, M, N, K, A, s->lda, B, s->ldb);
    if (!k->info->exact) {
      sat_cases++;
      if (bad) sat_differs++;
    }
    const bool must_match = k->info->exact || sats == 0;
    if (must_match) {
      QB_CHECK_MSG(bad == 0,
                   "%s (%s): M=%zu N=%zu K=%zu lda=%zu ldb=%zu ldc=%zu za_pack=%d za_run=%d fill=%d: "
                   "%zu mismatches, first C[%zu][%zu] = %d, expected %d",
                   k->info->name, family_names[f], M, N, K, s->lda, s->ldb, s->ldc, s->za_pack,
                   s->za_run, (int)s->fill, bad, bad_m, bad_n, bad ? C[bad_m * s->ldc + bad_n] : 0,
                   bad ? ref[bad_m * s->ldc + bad_n] : 0);
      if (bad && ++printed_failures > 20) {
        fprintf(stderr, "too many failures\n");
        exit(qb_test_finish("test_gemm_exact"));
      }
    }
    qb_guard_free(C);
    qb_guard_free(packed);
  }
  free(ref);
  free(zb);
  tail_free(&ta);
  tail_free(&tb);
}

/* ------------------------------------------------------------------- setup */
static size_t usable_kernels(family f, kernel* out, size_t cap) {
  size_t count = 0, n = 0;
  const qb_gemm_info* first = NULL;
  size_t stride = 0;
  const void* list = NULL;
  switch (f) {
    case FAM_QU8_QS8: list = qb_qu8_qs8_qs32_gemm_entries(&count); stride = sizeof(qb_qu8_qs8_qs32_gemm_entry); break;
    case FAM_QS8_QS8: list = qb_qs8_qs8_qs32_gemm_entries(&count); stride = sizeof(qb_qs8_qs8_qs32_gemm_entry); break;
    case FAM_QU8_QU8: list = qb_qu8_qu8_qs32_gemm_entries(&count); stride = sizeof(qb_qu8_qu8_qs32_gemm_entry); break;
  }
  for (size_t i = 0; i < count; i++) {
    first = (const qb_gemm_info*)((const char*)list + i * stride);
    const bool usable = qb_isa_usable(first->backend);
    printf("  %-8s %-46s %-10s %s\n", family_names[f], first->name, qb_backend_name(first->backend),
           usable ? "tested" : "skipped (not usable here)");
    if (usable && n < cap) out[n++] = (kernel){f, (const char*)list + i * stride, first};
  }
  return n;
}

static const size_t tail_dims[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 63, 64, 65};
#define NDIMS (sizeof tail_dims / sizeof tail_dims[0])
static const int32_t za_sweep[] = {0, 18, 75, 128, 157, 231, 255};

static int32_t za_for(family f, size_t i) {
  const int32_t z = za_sweep[i % 7];
  return a_signed(f) ? z - 128 : z;
}

static void run_family(family f) {
  kernel ks[16];
  const size_t nk = usable_kernels(f, ks, 16);
  size_t sweep = 0;

  /* Tail shapes: every (M, N, K) of tail_dims^3, alternately dense and with
   * strides lda = K+3, ldb = K+7, ldc = N+5. */
  for (size_t im = 0; im < NDIMS; im++)
    for (size_t in = 0; in < NDIMS; in++) {
      for (size_t ik = 0; ik < NDIMS; ik++) {
        const size_t M = tail_dims[im], N = tail_dims[in], K = tail_dims[ik];
        const bool strided = (im + in + ik) % 2 == 1;
        shape s = {M, N, K, strided ? K + 3 : K, strided ? K + 7 : K, strided ? N + 5 : N,
                   za_for(f, sweep), za_for(f, sweep), FILL_RANDOM};
        if (sweep % 5 == 4) s.za_run = za_for(f, sweep + 3); /* dynamic zero point */
        sweep++;
        check_shape(f, ks, nk, &s);
      }
    }

  /* Zero dims. */
  const size_t zd[][3] = {{0, 5, 7}, {5, 0, 7}, {5, 7, 0}, {0, 0, 0}, {0, 17, 0}, {33, 17, 0}, {1, 1, 0}};
  for (size_t i = 0; i < sizeof zd / sizeof zd[0]; i++) {
    shape s = {zd[i][0], zd[i][1], zd[i][2], zd[i][2] + 1, zd[i][2] + 2, zd[i][1] + 3,
               za_for(f, i), za_for(f, i), FILL_RANDOM};
    check_shape(f, ks, nk, &s);
  }

  /* Zero-point sweep on a few shapes (per-channel zb random in check_shape). */
  const size_t zs[][3] = {{1, 1, 1}, {7, 33, 17}, {17, 65, 63}, {33, 31, 129}};
  for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++)
    for (size_t z = 0; z < 7; z++) {
      shape s = {zs[i][0], zs[i][1], zs[i][2], zs[i][2] + 11, zs[i][2] + 13, zs[i][1] + 2,
                 za_for(f, z), za_for(f, z), FILL_RANDOM};
      check_shape(f, ks, nk, &s);
    }

  /* All-extreme values, long K (int32 range: the sums reach 255*255*K). For the c2
   * kernels: 5x601x77 is one K block over more than 512 columns (one N block); the
   * last four shapes span several K blocks (AVX2: kc = 1024 for 48 rows and more,
   * 24576 for 2 rows, 49152 for 1; SSE4.1 half of that), two row chunks (97 or 49
   * > 48) and, the last one, several N blocks (1043 > 2 x 512 columns) with several
   * K blocks in each. One row over several K blocks follows with random values
   * (K > 33025 would overflow the reference's int32 with extreme ones). */
  const fill_mode ext[] = {FILL_EXTREME_LO, FILL_EXTREME_HI, FILL_EXTREME_MIX};
  const size_t es[][3] = {{3, 37, 4099}, {9, 17, 1023}, {16, 64, 256}, {1, 5, 7},
                          {5, 601, 77}, {97, 19, 601}, {49, 19, 2100}, {2, 17, 25001},
                          {50, 1043, 1031}};
  for (size_t e = 0; e < 3; e++)
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++)
      for (size_t z = 0; z < 7; z += 3) {
        shape s = {es[i][0], es[i][1], es[i][2], es[i][2] + 1, es[i][2], es[i][1],
                   za_for(f, z), za_for(f, z), ext[e]};
        check_shape(f, ks, nk, &s);
      }
  for (size_t z = 0; z < 7; z += 3) {
    shape s = {1, 7, 50001, 50001, 50003, 7, za_for(f, z), za_for(f, z + 1), FILL_RANDOM};
    check_shape(f, ks, nk, &s);
  }

  /* Random shapes and strides. */
  for (int r = 0; r < 150; r++) {
    const size_t M = 1 + qb_rand_below(r % 10 == 0 ? 300 : 40);
    const size_t N = 1 + qb_rand_below(r % 7 == 0 ? 300 : 80);
    const size_t K = 1 + qb_rand_below(r % 5 == 0 ? 700 : 90);
    shape s = {M, N, K, K + qb_rand_below(20), K + qb_rand_below(20), N + qb_rand_below(20),
               za_for(f, qb_rand_below(7)), 0, FILL_RANDOM};
    s.za_run = qb_rand_below(4) ? s.za_pack : za_for(f, qb_rand_below(7));
    if (f == FAM_QU8_QS8 && r % 3 == 1) s.fill = (r % 2) ? FILL_NOSAT_SMALLB : FILL_NOSAT_SMALLA;
    check_shape(f, ks, nk, &s);
  }
}

/* avx2-sat: exact where no pair can saturate, and visibly not exact (counter > 0
 * and a different result) on all-extreme inputs. */
static void check_saturating(void) {
  size_t count;
  const qb_qu8_qs8_qs32_gemm_entry* list = qb_qu8_qs8_qs32_gemm_entries(&count);
  for (size_t i = 0; i < count; i++) {
    const qb_qu8_qs8_qs32_gemm_entry* e = &list[i];
    if (e->info.exact) {
      QB_CHECK_MSG(e->saturations == NULL, "%s: exact kernel with a saturation counter", e->info.name);
      continue;
    }
    QB_CHECK_MSG(e->saturations != NULL, "%s: non-exact kernel without a saturation counter", e->info.name);
    if (!e->saturations || !qb_isa_usable(e->info.backend)) continue;
    for (int mode = 0; mode < 2; mode++) {
      const size_t M = 5, N = 19, K = 37;
      uint8_t A[5 * 37];
      int8_t B[19 * 37];
      int32_t zb[19], ref[5 * 19], C[5 * 19];
      /* mode 0: A = 255, B = -128 (every pair saturates); mode 1: non-saturating. */
      for (size_t j = 0; j < M * K; j++) A[j] = mode ? (uint8_t)qb_rand_range(0, 255) : 255;
      for (size_t j = 0; j < N * K; j++) B[j] = mode ? (int8_t)qb_rand_range(-64, 64) : -128;
      for (size_t n = 0; n < N; n++) zb[n] = qb_rand_range(-128, 127);
      void* packed = malloc(e->info.packed_size(N, K));
      e->pack(N, K, B, K, zb, 128, packed);
      e->run(M, N, K, A, K, 128, packed, C, N);
      qb_qu8_qs8_qs32_gemm__scalar(M, N, K, A, K, 128, B, K, zb, ref, N);
      const uint64_t sats = e->saturations(M, N, K, A, K, B, K);
      const bool equal = memcmp(C, ref, sizeof C) == 0;
      if (mode == 0) {
        QB_CHECK_EQ_INT(sats, (uint64_t)M * N * ((K + 1) / 2 - 1)); /* the last pair has one product */
        QB_CHECK_MSG(!equal, "%s: all-extreme inputs should saturate", e->info.name);
        printf("  %s: all-extreme case: %llu saturations, C[0][0] = %d vs exact %d\n", e->info.name,
               (unsigned long long)sats, C[0], ref[0]);
      } else {
        QB_CHECK_EQ_INT(sats, 0);
        QB_CHECK_MSG(equal, "%s: must be exact when nothing saturates", e->info.name);
      }
      free(packed);
    }
  }
}

int main(void) {
  qb_test_seed(20240611);
  printf("usable: ");
  for (int b = 0; b < QB_BACKEND_COUNT; b++)
    if (qb_isa_usable((qb_backend)b)) printf("%s ", qb_backend_name((qb_backend)b));
  printf("\n");
  bool any_simd = false;
  for (int b = 1; b < QB_BACKEND_COUNT; b++) any_simd |= qb_isa_usable((qb_backend)b);

  run_family(FAM_QU8_QS8);
  run_family(FAM_QS8_QS8);
  run_family(FAM_QU8_QU8);
  check_saturating();
  printf("%zu kernel runs; non-exact kernels: %zu runs, %zu differed from the reference "
         "(all with saturations > 0)\n", kernels_run, sat_cases, sat_differs);
  const int status = qb_test_finish("test_gemm_exact");
  if (status == 0 && !any_simd) qb_test_skip("no SIMD backend usable: only the scalar entries ran");
  return status;
}
