/* Kernel lists and per-backend tables (generic C). See qb_dispatch.h for the rules.
 * To add a kernel: declare it in its family header, add an entry below at its
 * place in the best-to-worst order; tests and benchmarks pick it up from the list. */
#include "qb_dispatch.h"

#include <pthread.h>

#include "q8-gemm/qb_q8_gemm.h"

#define QB_INFO(NAME, BACKEND, MR, NR, KR, EXACT, SIZE) \
  { #NAME, BACKEND, MR, NR, KR, EXACT, SIZE }

/* ------------------------------------------------------- qu8 x qs8 -> qs32 */
#define QB_X86_ENTRY(AT, BT, TILE, ISA, BACKEND, MR, NR, KR)                               \
  {QB_INFO(qb_##AT##_##BT##_qs32_gemm_##TILE##__##ISA, BACKEND, MR, NR, KR, true,           \
           qb_q8_gemm_packed_size_##TILE##__##ISA),                                         \
   qb_##AT##_##BT##_qs32_gemm_pack_##TILE##__##ISA, qb_##AT##_##BT##_qs32_gemm_##TILE##__##ISA}
#define QB_ARM_ENTRY(AT, BT, TILE, ISA, BACKEND, MR, NR, KR)                               \
  {QB_INFO(qb_##AT##_##BT##_qs32_gemm_##TILE##__##ISA, BACKEND, MR, NR, KR, true,           \
           qb_q8_gemm_packed_size_##TILE##__##ISA),                                         \
   qb_##AT##_##BT##_qs32_gemm_pack_##TILE##__##ISA, qb_##AT##_##BT##_qs32_gemm_##TILE##__##ISA}

static const qb_qu8_qs8_qs32_gemm_entry qu8_qs8_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    {QB_INFO(qb_qu8_qs8_qs32_gemm_8x32c4__avx512vnni, QB_BACKEND_AVX512VNNI, 8, 32, 4, true,
             qb_q8_gemm_packed_size_8x32c4__avx512vnni),
     qb_qu8_qs8_qs32_gemm_pack_8x32c4__avx512vnni, qb_qu8_qs8_qs32_gemm_8x32c4__avx512vnni, NULL},
    {QB_INFO(qb_qu8_qs8_qs32_gemm_8x24c4__avx512vnni, QB_BACKEND_AVX512VNNI, 8, 24, 4, true,
             qb_q8_gemm_packed_size_8x24c4__avx512vnni),
     qb_qu8_qs8_qs32_gemm_pack_8x24c4__avx512vnni, qb_qu8_qs8_qs32_gemm_8x24c4__avx512vnni, NULL},
    {QB_INFO(qb_qu8_qs8_qs32_gemm_4x16c4_sat__avx2, QB_BACKEND_AVX2_SAT, 4, 16, 4, false,
             qb_q8_gemm_packed_size_4x16c4_sat__avx2),
     qb_qu8_qs8_qs32_gemm_pack_4x16c4_sat__avx2, qb_qu8_qs8_qs32_gemm_4x16c4_sat__avx2,
     qb_qu8_qs8_qs32_gemm_saturations__scalar},
    {QB_INFO(qb_qu8_qs8_qs32_gemm_6x16c2__avx2, QB_BACKEND_AVX2, 6, 16, 2, true,
             qb_q8_gemm_packed_size_6x16c2__avx2),
     qb_qu8_qs8_qs32_gemm_pack_6x16c2__avx2, qb_qu8_qs8_qs32_gemm_6x16c2__avx2, NULL},
    {QB_INFO(qb_qu8_qs8_qs32_gemm_6x8c2__sse41, QB_BACKEND_SSE41, 6, 8, 2, true,
             qb_q8_gemm_packed_size_6x8c2__sse41),
     qb_qu8_qs8_qs32_gemm_pack_6x8c2__sse41, qb_qu8_qs8_qs32_gemm_6x8c2__sse41, NULL},
#endif
#if defined(__aarch64__)
    {QB_INFO(qb_qu8_qs8_qs32_gemm_4x16c8__i8mm, QB_BACKEND_I8MM, 4, 16, 8, true,
             qb_q8_gemm_packed_size_4x16c8__i8mm),
     qb_qu8_qs8_qs32_gemm_pack_4x16c8__i8mm, qb_qu8_qs8_qs32_gemm_4x16c8__i8mm, NULL},
    {QB_INFO(qb_qu8_qs8_qs32_gemm_4x16c4__neondot, QB_BACKEND_NEONDOT, 4, 16, 4, true,
             qb_q8_gemm_packed_size_4x16c4__neondot),
     qb_qu8_qs8_qs32_gemm_pack_4x16c4__neondot, qb_qu8_qs8_qs32_gemm_4x16c4__neondot, NULL},
    {QB_INFO(qb_qu8_qs8_qs32_gemm_4x8c4__neon, QB_BACKEND_NEON, 4, 8, 4, true,
             qb_q8_gemm_packed_size_4x8c4__neon),
     qb_qu8_qs8_qs32_gemm_pack_4x8c4__neon, qb_qu8_qs8_qs32_gemm_4x8c4__neon, NULL},
#endif
    {QB_INFO(qb_qu8_qs8_qs32_gemm__scalar, QB_BACKEND_SCALAR, 1, 1, 1, true,
             qb_q8_gemm_packed_size__scalar),
     qb_qu8_qs8_qs32_gemm_pack__scalar, qb_qu8_qs8_qs32_gemm_run__scalar, NULL},
};

/* ------------------------------------- qs8 x qs8 and qu8 x qu8 -> qs32 */
/* The same microkernels: A ^ 0x80 for signed A, B - 128 at packing for unsigned B
 * (kernels/q8-gemm/qb_q8_gemm_pack.h). */
static const qb_qs8_qs8_qs32_gemm_entry qs8_qs8_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    QB_X86_ENTRY(qs8, qs8, 8x32c4, avx512vnni, QB_BACKEND_AVX512VNNI, 8, 32, 4),
    QB_X86_ENTRY(qs8, qs8, 8x24c4, avx512vnni, QB_BACKEND_AVX512VNNI, 8, 24, 4),
    QB_X86_ENTRY(qs8, qs8, 6x16c2, avx2, QB_BACKEND_AVX2, 6, 16, 2),
    QB_X86_ENTRY(qs8, qs8, 6x8c2, sse41, QB_BACKEND_SSE41, 6, 8, 2),
#endif
#if defined(__aarch64__)
    QB_ARM_ENTRY(qs8, qs8, 4x16c8, i8mm, QB_BACKEND_I8MM, 4, 16, 8),
    QB_ARM_ENTRY(qs8, qs8, 4x16c4, neondot, QB_BACKEND_NEONDOT, 4, 16, 4),
    QB_ARM_ENTRY(qs8, qs8, 4x8c4, neon, QB_BACKEND_NEON, 4, 8, 4),
#endif
    {QB_INFO(qb_qs8_qs8_qs32_gemm__scalar, QB_BACKEND_SCALAR, 1, 1, 1, true,
             qb_q8_gemm_packed_size__scalar),
     qb_qs8_qs8_qs32_gemm_pack__scalar, qb_qs8_qs8_qs32_gemm_run__scalar},
};

static const qb_qu8_qu8_qs32_gemm_entry qu8_qu8_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    QB_X86_ENTRY(qu8, qu8, 8x32c4, avx512vnni, QB_BACKEND_AVX512VNNI, 8, 32, 4),
    QB_X86_ENTRY(qu8, qu8, 8x24c4, avx512vnni, QB_BACKEND_AVX512VNNI, 8, 24, 4),
    QB_X86_ENTRY(qu8, qu8, 6x16c2, avx2, QB_BACKEND_AVX2, 6, 16, 2),
    QB_X86_ENTRY(qu8, qu8, 6x8c2, sse41, QB_BACKEND_SSE41, 6, 8, 2),
#endif
#if defined(__aarch64__)
    QB_ARM_ENTRY(qu8, qu8, 4x16c8, i8mm, QB_BACKEND_I8MM, 4, 16, 8),
    QB_ARM_ENTRY(qu8, qu8, 4x16c4, neondot, QB_BACKEND_NEONDOT, 4, 16, 4),
    QB_ARM_ENTRY(qu8, qu8, 4x8c4, neon, QB_BACKEND_NEON, 4, 8, 4),
#endif
    {QB_INFO(qb_qu8_qu8_qs32_gemm__scalar, QB_BACKEND_SCALAR, 1, 1, 1, true,
             qb_q8_gemm_packed_size__scalar),
     qb_qu8_qu8_qs32_gemm_pack__scalar, qb_qu8_qu8_qs32_gemm_run__scalar},
};

#define QB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

const qb_qu8_qs8_qs32_gemm_entry* qb_qu8_qs8_qs32_gemm_entries(size_t* count) {
  *count = QB_COUNT(qu8_qs8_list);
  return qu8_qs8_list;
}
const qb_qs8_qs8_qs32_gemm_entry* qb_qs8_qs8_qs32_gemm_entries(size_t* count) {
  *count = QB_COUNT(qs8_qs8_list);
  return qs8_qs8_list;
}
const qb_qu8_qu8_qs32_gemm_entry* qb_qu8_qu8_qs32_gemm_entries(size_t* count) {
  *count = QB_COUNT(qu8_qu8_list);
  return qu8_qu8_list;
}

/* ------------------------------------------------------------------ rules */
/* The table's fallback links from b down to scalar (kernels/isa/qb_backend_table.c). */
size_t qb_dispatch_fallback_chain(qb_backend b, qb_backend chain[QB_BACKEND_COUNT]) {
  size_t n = 0;
  for (const qb_backend_desc* d = qb_backend_describe(b);
       d && d->id != QB_BACKEND_SCALAR && n < QB_BACKEND_COUNT - 1;
       d = qb_backend_describe(d->fallback))
    chain[n++] = d->id;
  chain[n++] = QB_BACKEND_SCALAR;
  return n;
}

ptrdiff_t qb_dispatch_select_backend(qb_backend target, qb_backend_set usable,
                                     const qb_backend* first_backend, size_t count, size_t stride) {
  if ((unsigned)target >= QB_BACKEND_COUNT || !(usable & QB_BACKEND_BIT(target))) return -1;
  qb_backend chain[QB_BACKEND_COUNT];
  const size_t n = qb_dispatch_fallback_chain(target, chain);
  for (size_t c = 0; c < n; c++) {
    if (!(usable & QB_BACKEND_BIT(chain[c]))) continue;
    for (size_t i = 0; i < count; i++) {
      const qb_backend* b = (const qb_backend*)((const char*)first_backend + i * stride);
      if (*b == chain[c]) return (ptrdiff_t)i;
    }
  }
  return -1;
}

ptrdiff_t qb_dispatch_select(qb_backend target, qb_backend_set usable, const qb_gemm_info* first,
                             size_t count, size_t stride) {
  return qb_dispatch_select_backend(target, usable, &first->backend, count, stride);
}

#define QB_SELECT(LIST, TARGET, USABLE)                                                     \
  qb_dispatch_select(TARGET, USABLE, &(LIST)[0].info, QB_COUNT(LIST), sizeof((LIST)[0]))

/* The non-GEMM families (lists in kernels/dispatch/qb_dispatch_<family>.c): sets
 * table->FIELD to the selected entry of ACCESSOR's list, false if none. */
#define QB_SELECT_FAMILY(TABLE, FIELD, ACCESSOR, TARGET, USABLE)                              \
  do {                                                                                      \
    size_t n_;                                                                              \
    const __typeof__(*(TABLE)->FIELD)* list_ = ACCESSOR(&n_);                               \
    const ptrdiff_t i_ = qb_dispatch_select_backend(TARGET, USABLE, &list_[0].info.backend,  \
                                                    n_, sizeof list_[0]);                   \
    if (i_ < 0) return false;                                                               \
    (TABLE)->FIELD = &list_[i_];                                                            \
  } while (0)

bool qb_dispatch_build(qb_backend target, qb_backend_set usable, qb_dispatch_table* table) {
  usable |= QB_BACKEND_BIT(QB_BACKEND_SCALAR);
  const ptrdiff_t a = QB_SELECT(qu8_qs8_list, target, usable);
  const ptrdiff_t b = QB_SELECT(qs8_qs8_list, target, usable);
  const ptrdiff_t c = QB_SELECT(qu8_qu8_list, target, usable);
  if (a < 0 || b < 0 || c < 0) return false; /* target unusable: every family has scalar */
  table->backend = target;
  table->qu8_qs8_qs32_gemm = &qu8_qs8_list[a];
  table->qs8_qs8_qs32_gemm = &qs8_qs8_list[b];
  table->qu8_qu8_qs32_gemm = &qu8_qu8_list[c];
  QB_SELECT_FAMILY(table, f32_q8_quantize, qb_f32_q8_quantize_entries, target, usable);
  QB_SELECT_FAMILY(table, q8_f32_dequantize, qb_q8_f32_dequantize_entries, target, usable);
  QB_SELECT_FAMILY(table, qs32_q8_requantize_fp32, qb_qs32_q8_requantize_fp32_entries, target,
                   usable);
  QB_SELECT_FAMILY(table, qs32_q8_requantize_gemmlowp, qb_qs32_q8_requantize_gemmlowp_entries,
                   target, usable);
  QB_SELECT_FAMILY(table, qs8_q4_f32_wgemm, qb_qs8_q4_f32_wgemm_entries, target, usable);
  QB_SELECT_FAMILY(table, f32_q4_f32_wgemm, qb_f32_q4_f32_wgemm_entries, target, usable);
  QB_SELECT_FAMILY(table, qu8_qs8_qs32_dwconv2d, qb_qu8_qs8_qs32_dwconv2d_entries, target,
                   usable);
  QB_SELECT_FAMILY(table, qu8_qs8_qu8_dwconv2d_minmax_fp32,
                   qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entries, target, usable);
  QB_SELECT_FAMILY(table, qu8_im2col, qb_qu8_im2col_entries, target, usable);
  QB_SELECT_FAMILY(table, f32_gemm, qb_f32_gemm_entries, target, usable);
  QB_SELECT_FAMILY(table, f32_dwconv2d, qb_f32_dwconv2d_entries, target, usable);
  return true;
}

qb_backend qb_dispatch_best_backend(qb_backend_set usable) { return qb_backend_best_of(usable); }

bool qb_dispatch_table_exact(const qb_dispatch_table* t) {
  return t->qu8_qs8_qs32_gemm->info.exact && t->qs8_qs8_qs32_gemm->info.exact &&
         t->qu8_qu8_qs32_gemm->info.exact && t->f32_q8_quantize->info.exact &&
         t->q8_f32_dequantize->info.exact && t->qs32_q8_requantize_fp32->info.exact &&
         t->qs32_q8_requantize_gemmlowp->info.exact && t->qs8_q4_f32_wgemm->info.exact &&
         t->f32_q4_f32_wgemm->info.exact && t->qu8_qs8_qs32_dwconv2d->info.exact &&
         t->qu8_qs8_qu8_dwconv2d_minmax_fp32->info.exact && t->qu8_im2col->info.exact &&
         t->f32_gemm->info.exact && t->f32_dwconv2d->info.exact;
}

/* ----------------------------------------------------------------- tables */
static qb_dispatch_table tables[QB_BACKEND_COUNT];
static bool table_usable[QB_BACKEND_COUNT];
static qb_backend best_backend = QB_BACKEND_SCALAR;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
  const qb_backend_set usable = qb_isa_usable_set();
  for (int b = 0; b < QB_BACKEND_COUNT; b++)
    table_usable[b] = qb_dispatch_build((qb_backend)b, usable, &tables[b]);
  best_backend = qb_dispatch_best_backend(usable);
}

const qb_dispatch_table* qb_dispatch_get(qb_backend b) {
  if ((unsigned)b >= QB_BACKEND_COUNT) return NULL;
  pthread_once(&tables_once, build_tables);
  return table_usable[b] ? &tables[b] : NULL;
}

const qb_dispatch_table* qb_dispatch_best(void) {
  pthread_once(&tables_once, build_tables);
  return &tables[best_backend];
}
