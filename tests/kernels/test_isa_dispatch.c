/* ISA detection, the backend mask and dispatch:
 *   - backend names and QB_ISA_MASK parsing (valid lists, spaces, empty items,
 *     unknown names -> error, known names kept),
 *   - the pure dispatch rules (fallback chains, selection under any usable set:
 *     masked-out backends are skipped, the next lower backend is taken, scalar last),
 *   - the backend table's invariants (every rule derives from it: chains stay in one
 *     architecture and end at scalar, inexact backends are never a fallback nor best,
 *     ranks are distinct, named roofline ceilings exist with the right kind and run
 *     on instructions the backend has, detection predicates are monotone),
 *   - the family lists (one scalar entry, last; names carry the ISA token),
 *   - end to end in forked children (the mask freezes once per process):
 *     QB_ISA_MASK from the environment, qb_isa_set_mask before first use, no mask. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qb_dispatch.h"
#include "qb_test.h"
#include "roofline/qb_roofline_kernels.h"

#define BIT(b) QB_BACKEND_BIT(QB_BACKEND_##b)

static void check_names(void) {
  const char* expected[QB_BACKEND_COUNT] = {"scalar", "sse41", "avx2", "avx2-sat",
                                            "avx512vnni", "neon", "neondot", "i8mm"};
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    QB_CHECK(strcmp(qb_backend_name((qb_backend)b), expected[b]) == 0);
    qb_backend back;
    QB_CHECK(qb_backend_from_name(expected[b], strlen(expected[b]), &back) == 0 && back == (qb_backend)b);
  }
  QB_CHECK(qb_backend_name(QB_BACKEND_COUNT) == NULL);
  qb_backend back;
  QB_CHECK(qb_backend_from_name("AVX2", 4, &back) != 0);
  QB_CHECK(qb_backend_from_name("avx", 3, &back) != 0);
}

static void check_parse(void) {
  qb_backend_set m;
  char err[256];
  QB_CHECK(qb_isa_mask_parse("scalar,sse41", &m, err, sizeof err) == 0);
  QB_CHECK_EQ_INT(m, BIT(SCALAR) | BIT(SSE41));
  QB_CHECK(qb_isa_mask_parse(" avx2 , avx512vnni ", &m, err, sizeof err) == 0);
  QB_CHECK_EQ_INT(m, BIT(SCALAR) | BIT(AVX2) | BIT(AVX512VNNI)); /* scalar always allowed */
  QB_CHECK(qb_isa_mask_parse("avx2-sat,,neon,neondot,", &m, err, sizeof err) == 0);
  QB_CHECK_EQ_INT(m, BIT(SCALAR) | BIT(AVX2_SAT) | BIT(NEON) | BIT(NEONDOT));
  QB_CHECK(qb_isa_mask_parse("", &m, err, sizeof err) == 0);
  QB_CHECK_EQ_INT(m, BIT(SCALAR));
  QB_CHECK(qb_isa_mask_parse(NULL, &m, NULL, 0) == 0);
  QB_CHECK_EQ_INT(m, BIT(SCALAR));
  QB_CHECK(qb_isa_mask_parse("scalar,sse41,avx2,avx2-sat,avx512vnni,neon,neondot,i8mm", &m, err, sizeof err) == 0);
  QB_CHECK_EQ_INT(m, QB_BACKEND_SET_ALL);

  /* Unknown names: error naming the first one, the known names are kept. */
  QB_CHECK(qb_isa_mask_parse("sse41,bogus,avx2,AVX512", &m, err, sizeof err) == -1);
  QB_CHECK_EQ_INT(m, BIT(SCALAR) | BIT(SSE41) | BIT(AVX2));
  QB_CHECK_MSG(strstr(err, "'bogus'") != NULL && strstr(err, "avx512vnni") != NULL, "err = %s", err);
  QB_CHECK(qb_isa_mask_parse("sve2", &m, err, 8) == -1); /* truncated message, no overflow */
  QB_CHECK(strlen(err) < 8);
  QB_CHECK_EQ_INT(m, BIT(SCALAR));
}

static void check_chains(void) {
  qb_backend chain[QB_BACKEND_COUNT];
  const qb_backend vnni[] = {QB_BACKEND_AVX512VNNI, QB_BACKEND_AVX2, QB_BACKEND_SSE41, QB_BACKEND_SCALAR};
  QB_CHECK_EQ_INT(qb_dispatch_fallback_chain(QB_BACKEND_AVX512VNNI, chain), 4);
  QB_CHECK(memcmp(chain, vnni, sizeof vnni) == 0);
  const qb_backend sat[] = {QB_BACKEND_AVX2_SAT, QB_BACKEND_AVX2, QB_BACKEND_SSE41, QB_BACKEND_SCALAR};
  QB_CHECK_EQ_INT(qb_dispatch_fallback_chain(QB_BACKEND_AVX2_SAT, chain), 4);
  QB_CHECK(memcmp(chain, sat, sizeof sat) == 0);
  const qb_backend dot[] = {QB_BACKEND_NEONDOT, QB_BACKEND_NEON, QB_BACKEND_SCALAR};
  QB_CHECK_EQ_INT(qb_dispatch_fallback_chain(QB_BACKEND_NEONDOT, chain), 3);
  QB_CHECK(memcmp(chain, dot, sizeof dot) == 0);
  const qb_backend mm[] = {QB_BACKEND_I8MM, QB_BACKEND_NEONDOT, QB_BACKEND_NEON, QB_BACKEND_SCALAR};
  QB_CHECK_EQ_INT(qb_dispatch_fallback_chain(QB_BACKEND_I8MM, chain), 4);
  QB_CHECK(memcmp(chain, mm, sizeof mm) == 0);
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const size_t n = qb_dispatch_fallback_chain((qb_backend)b, chain);
    QB_CHECK(chain[0] == (qb_backend)b && chain[n - 1] == QB_BACKEND_SCALAR);
    for (size_t i = 0; i < n; i++) QB_CHECK(chain[i] != QB_BACKEND_AVX2_SAT || b == QB_BACKEND_AVX2_SAT);
  }

  /* Selection on a synthetic list. */
  const qb_gemm_info list[] = {
      {"k_vnni", QB_BACKEND_AVX512VNNI, 8, 32, 4, true, NULL},
      {"k_vnni_b", QB_BACKEND_AVX512VNNI, 8, 24, 4, true, NULL},
      {"k_sat", QB_BACKEND_AVX2_SAT, 4, 16, 4, false, NULL},
      {"k_sse", QB_BACKEND_SSE41, 4, 8, 4, true, NULL},
      {"k_ref", QB_BACKEND_SCALAR, 1, 1, 1, true, NULL},
  };
  const size_t n = sizeof list / sizeof list[0], st = sizeof list[0];
  QB_CHECK_EQ_INT(qb_dispatch_select(QB_BACKEND_AVX512VNNI, QB_BACKEND_SET_ALL, list, n, st), 0); /* first of two */
  QB_CHECK_EQ_INT(qb_dispatch_select(QB_BACKEND_AVX2, QB_BACKEND_SET_ALL, list, n, st), 3);       /* no avx2: sse41 */
  QB_CHECK_EQ_INT(qb_dispatch_select(QB_BACKEND_AVX2_SAT, QB_BACKEND_SET_ALL, list, n, st), 2);
  QB_CHECK_EQ_INT(qb_dispatch_select(QB_BACKEND_AVX512VNNI, BIT(SCALAR) | BIT(AVX512VNNI), list, n, st), 0);
  QB_CHECK_EQ_INT(qb_dispatch_select(QB_BACKEND_AVX2, BIT(SCALAR) | BIT(AVX2), list, n, st), 4); /* sse41 masked */
  QB_CHECK_EQ_INT(qb_dispatch_select(QB_BACKEND_AVX2, BIT(SCALAR) | BIT(SSE41), list, n, st), -1); /* target masked */
  QB_CHECK_EQ_INT(qb_dispatch_select(QB_BACKEND_NEONDOT, QB_BACKEND_SET_ALL, list, n, st), 4);
  QB_CHECK_EQ_INT(qb_dispatch_select(QB_BACKEND_SCALAR, BIT(SCALAR), list, n, st), 4);
  QB_CHECK_EQ_INT(qb_dispatch_select(QB_BACKEND_COUNT, QB_BACKEND_SET_ALL, list, n, st), -1);

  /* Best exact backend. */
  QB_CHECK_EQ_INT(qb_dispatch_best_backend(QB_BACKEND_SET_ALL & ~BIT(NEON) & ~BIT(NEONDOT) & ~BIT(I8MM)), QB_BACKEND_AVX512VNNI);
  QB_CHECK_EQ_INT(qb_dispatch_best_backend(BIT(SCALAR) | BIT(SSE41) | BIT(AVX2) | BIT(AVX2_SAT)), QB_BACKEND_AVX2);
  QB_CHECK_EQ_INT(qb_dispatch_best_backend(BIT(SCALAR) | BIT(AVX2_SAT)), QB_BACKEND_SCALAR);
  QB_CHECK_EQ_INT(qb_dispatch_best_backend(BIT(SCALAR) | BIT(NEON)), QB_BACKEND_NEON);
  QB_CHECK_EQ_INT(qb_dispatch_best_backend(BIT(SCALAR) | BIT(NEON) | BIT(NEONDOT)), QB_BACKEND_NEONDOT);
  QB_CHECK_EQ_INT(qb_dispatch_best_backend(BIT(SCALAR) | BIT(NEON) | BIT(NEONDOT) | BIT(I8MM)), QB_BACKEND_I8MM);
  QB_CHECK_EQ_INT(qb_dispatch_best_backend(0), QB_BACKEND_SCALAR);
}

static const qb_roofline_probe* find_probe(const char* name) {
  size_t n;
  const qb_roofline_probe* p = qb_roofline_probes(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(p[i].name, name) == 0) return &p[i];
  return NULL;
}

static void check_ceiling(const qb_backend_desc* d, const char* name, qb_roofline_kind kind) {
  if (!name) return;
  const qb_roofline_probe* p = find_probe(name);
#if defined(__x86_64__) || defined(__i386__)
  if (d->arch != QB_ARCH_X86) return;
  QB_CHECK_MSG(p != NULL, "%s: no roofline probe '%s'", d->name, name);
  if (!p) return;
  QB_CHECK_MSG(p->kind == kind, "%s: ceiling %s has the wrong kind", d->name, name);
  /* The probe's instructions are ones the backend has: its backend is on d's chain. */
  qb_backend chain[QB_BACKEND_COUNT];
  const size_t n = qb_dispatch_fallback_chain(d->id, chain);
  bool on_chain = false;
  for (size_t i = 0; i < n; i++) on_chain |= chain[i] == p->backend;
  QB_CHECK_MSG(on_chain, "%s: ceiling %s runs on %s", d->name, name, qb_backend_name(p->backend));
#else
  (void)p, (void)kind;
#endif
}

static void check_table(void) {
  /* Every flag of the features (bools: set them one by one, a 0xff byte is no bool). */
  static const size_t flag_at[] = {
      offsetof(qb_isa_features, x86_sse41), offsetof(qb_isa_features, x86_osxsave),
      offsetof(qb_isa_features, x86_avx), offsetof(qb_isa_features, x86_fma),
      offsetof(qb_isa_features, x86_f16c), offsetof(qb_isa_features, x86_avx2),
      offsetof(qb_isa_features, x86_os_ymm), offsetof(qb_isa_features, x86_os_zmm),
      offsetof(qb_isa_features, x86_avx512f), offsetof(qb_isa_features, x86_avx512bw),
      offsetof(qb_isa_features, x86_avx512vl), offsetof(qb_isa_features, x86_avx512dq),
      offsetof(qb_isa_features, x86_avx512_vnni), offsetof(qb_isa_features, x86_avx_vnni),
      offsetof(qb_isa_features, arm_asimd), offsetof(qb_isa_features, arm_asimddp),
      offsetof(qb_isa_features, arm_i8mm)};
  const size_t nflags = sizeof flag_at / sizeof flag_at[0];
  qb_isa_features none, all;
  memset(&none, 0, sizeof none);
  all = none;
  for (size_t i = 0; i < nflags; i++) *(bool*)((char*)&all + flag_at[i]) = true;
  unsigned rank_seen = 0;
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const qb_backend_desc* d = qb_backend_describe((qb_backend)b);
    QB_CHECK(d != NULL && d->id == (qb_backend)b && d->summary && d->detected);
    QB_CHECK(d->fallback != (qb_backend)b || b == QB_BACKEND_SCALAR);
    /* Every chain stays within one architecture (scalar is every architecture's). */
    qb_backend chain[QB_BACKEND_COUNT];
    const size_t n = qb_dispatch_fallback_chain((qb_backend)b, chain);
    for (size_t i = 1; i + 1 < n; i++) {
      const qb_backend_desc* c = qb_backend_describe(chain[i]);
      QB_CHECK_MSG(c->arch == d->arch, "%s falls back to %s", d->name, c->name);
      QB_CHECK_MSG(c->exact, "%s falls back to inexact %s", d->name, c->name);
      /* Whatever detects b detects its fallbacks: a chain never leads to an ISA the
       * CPU lacks. Checked on every single-feature-missing CPU below. */
    }
    QB_CHECK_MSG(d->best_rank == 0 || d->exact, "%s: inexact but ranked", d->name);
    if (d->best_rank) {
      QB_CHECK_MSG(!(rank_seen & (1u << d->best_rank)), "%s: rank %u taken", d->name, d->best_rank);
      rank_seen |= 1u << d->best_rank;
    }
    QB_CHECK_MSG(d->detected(&all), "%s: not detected with every feature", d->name);
    QB_CHECK_MSG(d->detected(&none) == (b == QB_BACKEND_SCALAR), "%s: detected with no feature", d->name);
    check_ceiling(d, d->roof_int8, QB_ROOF_INT8);
    check_ceiling(d, d->roof_fp32, QB_ROOF_FP32);
  }
  /* Monotone: remove one feature at a time; every backend still detected keeps its
   * whole chain detected. */
  for (size_t flag = 0; flag < nflags; flag++) {
    qb_isa_features f = all;
    *(bool*)((char*)&f + flag_at[flag]) = false;
    for (int b = 0; b < QB_BACKEND_COUNT; b++) {
      if (!qb_backend_describe((qb_backend)b)->detected(&f)) continue;
      qb_backend chain[QB_BACKEND_COUNT];
      const size_t n = qb_dispatch_fallback_chain((qb_backend)b, chain);
      for (size_t i = 0; i < n; i++)
        QB_CHECK_MSG(qb_backend_describe(chain[i])->detected(&f), "%s detected without %s (flag %zu)",
                     qb_backend_name((qb_backend)b), qb_backend_name(chain[i]), flag);
    }
  }
  /* The best of a set is its highest-ranked exact member. */
  for (qb_backend_set set = 0; set < (1u << QB_BACKEND_COUNT); set++) {
    const qb_backend best = qb_backend_best_of(set);
    QB_CHECK(best == QB_BACKEND_SCALAR || (set & QB_BACKEND_BIT(best)));
    QB_CHECK(qb_backend_describe(best)->exact);
    for (int b = 0; b < QB_BACKEND_COUNT; b++)
      if (set & QB_BACKEND_BIT(b))
        QB_CHECK(qb_backend_describe((qb_backend)b)->best_rank <= qb_backend_describe(best)->best_rank);
  }
  QB_CHECK(qb_backend_describe(QB_BACKEND_COUNT) == NULL);
}

/* "..__<isa>" with the sat variant spelled "_sat__avx2". */
static bool name_matches_backend(const char* name, qb_backend b) {
  const char* tok = strstr(name, "__");
  if (!tok || strstr(tok + 2, "__")) return false;
  if (b == QB_BACKEND_AVX2_SAT) return strcmp(tok, "__avx2") == 0 && tok - name > 4 && memcmp(tok - 4, "_sat", 4) == 0;
  return strcmp(tok + 2, qb_backend_name(b)) == 0 && !(tok - name > 4 && memcmp(tok - 4, "_sat", 4) == 0);
}

static void check_list(const char* family, const void* entries, size_t count, size_t stride) {
  QB_CHECK(count >= 1);
  for (size_t i = 0; i < count; i++) {
    const qb_gemm_info* e = (const qb_gemm_info*)((const char*)entries + i * stride);
    QB_CHECK_MSG(strncmp(e->name, "qb_", 3) == 0 && strstr(e->name, family) != NULL, "%s", e->name);
    QB_CHECK_MSG(name_matches_backend(e->name, e->backend), "%s vs backend %s", e->name, qb_backend_name(e->backend));
    QB_CHECK_MSG(e->exact == (e->backend != QB_BACKEND_AVX2_SAT), "%s", e->name);
    QB_CHECK(e->packed_size != NULL && e->mr >= 1 && e->nr >= 1 && e->kr >= 1);
    QB_CHECK_MSG((e->backend == QB_BACKEND_SCALAR) == (i + 1 == count), "%s: scalar must be last and only last", e->name);
    for (size_t j = 0; j < i; j++)
      QB_CHECK(strcmp(e->name, ((const qb_gemm_info*)((const char*)entries + j * stride))->name) != 0);
  }
}

static void check_lists(void) {
  size_t n;
  const qb_qu8_qs8_qs32_gemm_entry* a = qb_qu8_qs8_qs32_gemm_entries(&n);
  check_list("qu8_qs8_qs32_gemm", a, n, sizeof *a);
  const qb_qs8_qs8_qs32_gemm_entry* b = qb_qs8_qs8_qs32_gemm_entries(&n);
  check_list("qs8_qs8_qs32_gemm", b, n, sizeof *b);
  const qb_qu8_qu8_qs32_gemm_entry* c = qb_qu8_qu8_qs32_gemm_entries(&n);
  check_list("qu8_qu8_qs32_gemm", c, n, sizeof *c);

  /* Tables under explicit usable sets (independent of this CPU). */
  qb_dispatch_table t;
  QB_CHECK(qb_dispatch_build(QB_BACKEND_SCALAR, 0, &t)); /* scalar is always added */
  QB_CHECK(strcmp(t.qu8_qs8_qs32_gemm->info.name, "qb_qu8_qs8_qs32_gemm__scalar") == 0);
  QB_CHECK(strcmp(t.qs8_qs8_qs32_gemm->info.name, "qb_qs8_qs8_qs32_gemm__scalar") == 0);
  QB_CHECK(strcmp(t.qu8_qu8_qs32_gemm->info.name, "qb_qu8_qu8_qs32_gemm__scalar") == 0);
  QB_CHECK(!qb_dispatch_build(QB_BACKEND_AVX2, BIT(SCALAR) | BIT(SSE41), &t));
  QB_CHECK(qb_dispatch_build(QB_BACKEND_NEONDOT, BIT(SCALAR) | BIT(NEONDOT), &t));
  QB_CHECK(t.backend == QB_BACKEND_NEONDOT && t.qu8_qs8_qs32_gemm->info.backend != QB_BACKEND_NEON);
#if defined(__x86_64__)
  QB_CHECK(qb_dispatch_build(QB_BACKEND_AVX512VNNI, BIT(SCALAR) | BIT(SSE41) | BIT(AVX512VNNI), &t));
  QB_CHECK(strcmp(t.qu8_qs8_qs32_gemm->info.name, "qb_qu8_qs8_qs32_gemm_8x32c4__avx512vnni") == 0);
  QB_CHECK(qb_dispatch_build(QB_BACKEND_AVX2_SAT, BIT(SCALAR) | BIT(SSE41) | BIT(AVX2_SAT), &t));
  QB_CHECK(strcmp(t.qu8_qs8_qs32_gemm->info.name, "qb_qu8_qs8_qs32_gemm_4x16c4_sat__avx2") == 0);
  /* No sat kernel in the other families, avx2 masked out: next lower is sse41. */
  QB_CHECK(strcmp(t.qs8_qs8_qs32_gemm->info.name, "qb_qs8_qs8_qs32_gemm_6x8c2__sse41") == 0);
  QB_CHECK(strcmp(t.qu8_qu8_qs32_gemm->info.name, "qb_qu8_qu8_qs32_gemm_6x8c2__sse41") == 0);
  QB_CHECK(qb_dispatch_build(QB_BACKEND_AVX2_SAT, BIT(AVX2) | BIT(AVX2_SAT), &t));
  QB_CHECK(strcmp(t.qs8_qs8_qs32_gemm->info.name, "qb_qs8_qs8_qs32_gemm_6x16c2__avx2") == 0);
  /* avx512vnni never falls back to the saturating kernel. */
  QB_CHECK(qb_dispatch_build(QB_BACKEND_AVX512VNNI, BIT(AVX2_SAT) | BIT(AVX512VNNI), &t));
  QB_CHECK(t.qu8_qs8_qs32_gemm->info.backend == QB_BACKEND_AVX512VNNI);
  QB_CHECK(qb_dispatch_build(QB_BACKEND_AVX2, BIT(AVX2) | BIT(AVX2_SAT), &t));
  QB_CHECK(strcmp(t.qu8_qs8_qs32_gemm->info.name, "qb_qu8_qs8_qs32_gemm_6x16c2__avx2") == 0);
#endif
#if defined(__aarch64__)
  /* USMMLA kernels for i8mm, dotprod kernels for neondot (and for i8mm when i8mm
   * is masked), plain NEON when dotprod is absent or masked. */
  QB_CHECK(qb_dispatch_build(QB_BACKEND_I8MM, BIT(NEON) | BIT(NEONDOT) | BIT(I8MM), &t));
  QB_CHECK(strcmp(t.qu8_qs8_qs32_gemm->info.name, "qb_qu8_qs8_qs32_gemm_4x16c8__i8mm") == 0);
  QB_CHECK(strcmp(t.qs8_qs8_qs32_gemm->info.name, "qb_qs8_qs8_qs32_gemm_4x16c8__i8mm") == 0);
  QB_CHECK(strcmp(t.qu8_qu8_qs32_gemm->info.name, "qb_qu8_qu8_qs32_gemm_4x16c8__i8mm") == 0);
  QB_CHECK(t.qu8_qs8_qs32_gemm->info.kr == 8);
  QB_CHECK(qb_dispatch_build(QB_BACKEND_I8MM, BIT(NEON) | BIT(I8MM), &t)); /* neondot masked */
  QB_CHECK(t.qs8_qs8_qs32_gemm->info.backend == QB_BACKEND_I8MM);
  QB_CHECK(qb_dispatch_build(QB_BACKEND_NEONDOT, BIT(NEON) | BIT(NEONDOT) | BIT(I8MM), &t));
  QB_CHECK(strcmp(t.qu8_qs8_qs32_gemm->info.name, "qb_qu8_qs8_qs32_gemm_4x16c4__neondot") == 0);
  QB_CHECK(strcmp(t.qs8_qs8_qs32_gemm->info.name, "qb_qs8_qs8_qs32_gemm_4x16c4__neondot") == 0);
  QB_CHECK(strcmp(t.qu8_qu8_qs32_gemm->info.name, "qb_qu8_qu8_qs32_gemm_4x16c4__neondot") == 0);
  QB_CHECK(qb_dispatch_build(QB_BACKEND_NEON, BIT(NEON) | BIT(NEONDOT), &t));
  QB_CHECK(strcmp(t.qu8_qs8_qs32_gemm->info.name, "qb_qu8_qs8_qs32_gemm_4x8c4__neon") == 0);
  QB_CHECK(strcmp(t.qs8_qs8_qs32_gemm->info.name, "qb_qs8_qs8_qs32_gemm_4x8c4__neon") == 0);
  QB_CHECK(strcmp(t.qu8_qu8_qs32_gemm->info.name, "qb_qu8_qu8_qs32_gemm_4x8c4__neon") == 0);
  QB_CHECK(!qb_dispatch_build(QB_BACKEND_NEONDOT, BIT(NEON), &t)); /* a Cortex-A53: no table */
  QB_CHECK(!qb_dispatch_build(QB_BACKEND_I8MM, BIT(NEON) | BIT(NEONDOT), &t));
  QB_CHECK_EQ_INT(qb_dispatch_best_backend(BIT(SCALAR) | BIT(NEON)), QB_BACKEND_NEON);
#endif
}

/* ---------------------------------------------- end to end, one per process */
static qb_backend best_under(qb_backend_set allowed) {
  return qb_dispatch_best_backend(qb_isa_built() & qb_isa_detected() & allowed);
}

static void check_process_state(qb_backend_set allowed) {
  const qb_backend_set expect = (qb_isa_built() & qb_isa_detected() & allowed) | BIT(SCALAR);
  QB_CHECK_EQ_INT(qb_isa_mask() & allowed, qb_isa_mask());
  QB_CHECK_EQ_INT(qb_isa_usable_set(), expect);
  QB_CHECK(qb_isa_usable(QB_BACKEND_SCALAR));
  QB_CHECK(!qb_isa_usable(QB_BACKEND_COUNT));
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const qb_dispatch_table* t = qb_dispatch_get((qb_backend)b);
    const bool usable = (expect & QB_BACKEND_BIT(b)) != 0;
    QB_CHECK_MSG((t != NULL) == usable, "backend %s", qb_backend_name((qb_backend)b));
    if (!t) continue;
    QB_CHECK(t->backend == (qb_backend)b);
    /* Every kernel in the table is usable, and is what the pure rule picks. */
    QB_CHECK(qb_isa_usable(t->qu8_qs8_qs32_gemm->info.backend));
    QB_CHECK(qb_isa_usable(t->qs8_qs8_qs32_gemm->info.backend));
    QB_CHECK(qb_isa_usable(t->qu8_qu8_qs32_gemm->info.backend));
    qb_dispatch_table pure;
    QB_CHECK(qb_dispatch_build((qb_backend)b, expect, &pure));
    QB_CHECK(pure.qu8_qs8_qs32_gemm == t->qu8_qs8_qs32_gemm && pure.qs8_qs8_qs32_gemm == t->qs8_qs8_qs32_gemm &&
             pure.qu8_qu8_qs32_gemm == t->qu8_qu8_qs32_gemm);
  }
  const qb_dispatch_table* best = qb_dispatch_best();
  QB_CHECK(best != NULL && best->backend == best_under(allowed));
#if defined(__aarch64__)
  /* Every int8 GEMM family has neon, neondot and i8mm kernels: the best backend's
   * table holds its own kernels; on a core without dotprod (or with it masked)
   * they all fall back to the plain NEON ones. */
  if (best->backend != QB_BACKEND_SCALAR) {
    QB_CHECK(best->backend == ((expect & BIT(I8MM))      ? QB_BACKEND_I8MM
                               : (expect & BIT(NEONDOT)) ? QB_BACKEND_NEONDOT
                                                         : QB_BACKEND_NEON));
    QB_CHECK(best->qu8_qs8_qs32_gemm->info.backend == best->backend);
    QB_CHECK(best->qs8_qs8_qs32_gemm->info.backend == best->backend);
    QB_CHECK(best->qu8_qu8_qs32_gemm->info.backend == best->backend);
  }
  if ((qb_isa_detected() & BIT(NEON)) && (allowed & BIT(NEON)))
    QB_CHECK(best->backend == QB_BACKEND_NEON || best->backend == QB_BACKEND_NEONDOT ||
             best->backend == QB_BACKEND_I8MM);
#endif
  printf("  best: %s -> %s, %s, %s\n", qb_backend_name(best->backend), best->qu8_qs8_qs32_gemm->info.name,
         best->qs8_qs8_qs32_gemm->info.name, best->qu8_qu8_qs32_gemm->info.name);
  QB_CHECK(qb_isa_set_mask(QB_BACKEND_SET_ALL) == -1); /* frozen */
  QB_CHECK_EQ_INT(qb_isa_usable_set(), expect);
}

typedef enum { CHILD_ENV_MASK, CHILD_ENV_BAD, CHILD_SET_MASK, CHILD_ENV_NEON, CHILD_NO_MASK } child_mode;

static void child(child_mode mode) {
  switch (mode) {
    case CHILD_ENV_MASK:
      printf("child: QB_ISA_MASK=scalar,sse41\n");
      setenv("QB_ISA_MASK", "scalar,sse41", 1);
      check_process_state(BIT(SCALAR) | BIT(SSE41));
      break;
    case CHILD_ENV_BAD: /* unknown names allow nothing; the known ones stay */
      printf("child: QB_ISA_MASK=avx2,avx-512 (an error line on stderr is expected)\n");
      setenv("QB_ISA_MASK", "avx2,avx-512", 1);
      check_process_state(BIT(SCALAR) | BIT(AVX2));
      break;
    case CHILD_SET_MASK: /* the API wins over the environment */
      printf("child: qb_isa_set_mask(scalar, avx2, avx2-sat) with QB_ISA_MASK=sse41\n");
      setenv("QB_ISA_MASK", "sse41", 1);
      QB_CHECK(qb_isa_set_mask(BIT(AVX2) | BIT(AVX2_SAT)) == 0);
      check_process_state(BIT(SCALAR) | BIT(AVX2) | BIT(AVX2_SAT));
      break;
    case CHILD_ENV_NEON: /* Arm: dotprod and i8mm masked out, dispatch falls back to neon */
      printf("child: QB_ISA_MASK=neon\n");
      setenv("QB_ISA_MASK", "neon", 1);
      check_process_state(BIT(SCALAR) | BIT(NEON));
      QB_CHECK(qb_dispatch_get(QB_BACKEND_NEONDOT) == NULL && qb_dispatch_get(QB_BACKEND_I8MM) == NULL);
      break;
    case CHILD_NO_MASK:
      printf("child: QB_ISA_MASK unset\n");
      unsetenv("QB_ISA_MASK");
      check_process_state(QB_BACKEND_SET_ALL);
      break;
  }
  fflush(stdout);
  _exit(qb_test_failures ? 1 : 0);
}

int main(void) {
  const qb_isa_features* f = qb_isa_features_get();
  printf("built:");
  for (int b = 0; b < QB_BACKEND_COUNT; b++)
    if (qb_isa_built() & QB_BACKEND_BIT(b)) printf(" %s", qb_backend_name((qb_backend)b));
  printf("\ndetected:");
  for (int b = 0; b < QB_BACKEND_COUNT; b++)
    if (qb_isa_detected() & QB_BACKEND_BIT(b)) printf(" %s", qb_backend_name((qb_backend)b));
  printf("\nx86: vendor '%s' xcr0 %#llx sse41 %d avx2 %d fma %d avx512f/bw/vl/dq %d%d%d%d vnni %d avx_vnni %d"
         "\narm: hwcap %#lx hwcap2 %#lx asimd %d asimddp %d i8mm %d\n",
         f->x86_vendor, (unsigned long long)f->x86_xcr0, f->x86_sse41, f->x86_avx2, f->x86_fma,
         f->x86_avx512f, f->x86_avx512bw, f->x86_avx512vl, f->x86_avx512dq, f->x86_avx512_vnni,
         f->x86_avx_vnni, f->arm_hwcap, f->arm_hwcap2, f->arm_asimd, f->arm_asimddp, f->arm_i8mm);
  QB_CHECK(qb_isa_detected() & BIT(SCALAR));
  QB_CHECK(qb_isa_built() & BIT(SCALAR));
  /* avx2-sat is the same instructions as avx2. */
  QB_CHECK(!!(qb_isa_detected() & BIT(AVX2)) == !!(qb_isa_detected() & BIT(AVX2_SAT)));
  if (qb_isa_detected() & BIT(AVX512VNNI)) QB_CHECK(qb_isa_detected() & BIT(AVX2));

  check_names();
  check_parse();
  check_chains();
  check_table();
  check_lists();

  /* Each mask scenario in a fresh process: the mask freezes once per process. */
  for (int mode = CHILD_ENV_MASK; mode <= CHILD_NO_MASK; mode++) {
    fflush(stdout);
    fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) abort();
    if (pid == 0) child((child_mode)mode);
    int status = 0;
    waitpid(pid, &status, 0);
    QB_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child scenario %d failed", mode);
  }

  /* This process: the same, with the environment as CTest gives it. */
  const char* env = getenv("QB_ISA_MASK");
  qb_backend_set allowed = QB_BACKEND_SET_ALL;
  if (env) qb_isa_mask_parse(env, &allowed, NULL, 0);
  check_process_state(allowed);
  return qb_test_finish("test_isa_dispatch");
}
