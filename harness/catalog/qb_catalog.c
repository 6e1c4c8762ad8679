/* Machine, backend and kernel-family catalog. See qb_catalog.h. */
#include "qb_catalog.h"

#include <string.h>

#include "isa/qb_isa.h"

int qb_catalog_machine_describe(qb_machine* m, qb_error* err) {
  if (qb_machine_describe(m, err) != 0) return -1;
  const qb_isa_features* f = qb_isa_features_get();
  const qb_isa_view v = {.sse41 = f->x86_sse41,
                         .avx2 = f->x86_avx2,
                         .fma = f->x86_fma,
                         .avx512f = f->x86_avx512f,
                         .avx512bw = f->x86_avx512bw,
                         .avx512vl = f->x86_avx512vl,
                         .avx512vnni = f->x86_avx512_vnni};
#if defined(__x86_64__) || defined(__i386__)
  qb_machine_set_cpuid_view(m, &v); /* libcpuid is x86-only: nothing to compare on Arm */
#else
  (void)v;
#endif
  return 0;
}

static qb_catalog_kernel from_gemm(const qb_gemm_info* i) {
  return (qb_catalog_kernel){i->name, i->backend, i->exact, i->mr, i->nr, i->kr};
}
static qb_catalog_kernel from_kernel(const qb_kernel_info* i) {
  return (qb_catalog_kernel){i->name, i->backend, i->exact, 0, 0, 0};
}

#define QB_GEMM_FAMILY(F) \
  static qb_catalog_kernel chosen_##F(const qb_dispatch_table* t) { return from_gemm(&t->F->info); }
#define QB_KERNEL_FAMILY(F) \
  static qb_catalog_kernel chosen_##F(const qb_dispatch_table* t) { return from_kernel(&t->F->info); }
QB_GEMM_FAMILY(qu8_qs8_qs32_gemm)
QB_GEMM_FAMILY(qs8_qs8_qs32_gemm)
QB_GEMM_FAMILY(qu8_qu8_qs32_gemm)
QB_KERNEL_FAMILY(f32_q8_quantize)
QB_KERNEL_FAMILY(q8_f32_dequantize)
QB_KERNEL_FAMILY(qs32_q8_requantize_fp32)
QB_KERNEL_FAMILY(qs32_q8_requantize_gemmlowp)
QB_KERNEL_FAMILY(qs8_q4_f32_wgemm)
QB_KERNEL_FAMILY(f32_q4_f32_wgemm)
QB_KERNEL_FAMILY(qu8_qs8_qs32_dwconv2d)
QB_KERNEL_FAMILY(qu8_qs8_qu8_dwconv2d_minmax_fp32)
QB_KERNEL_FAMILY(qu8_qs8_qu8_dwconv2d_minmax_gemmlowp)
QB_KERNEL_FAMILY(qu8_im2col)
QB_GEMM_FAMILY(f32_gemm)
QB_KERNEL_FAMILY(f32_dwconv2d)

/* Every member of qb_dispatch_table, in its order (tests/unit/test_catalog.c
 * fails when the table has a member this list lacks). */
static const qb_catalog_family k_families[] = {
    {"qu8_qs8_qs32_gemm", chosen_qu8_qs8_qs32_gemm},
    {"qs8_qs8_qs32_gemm", chosen_qs8_qs8_qs32_gemm},
    {"qu8_qu8_qs32_gemm", chosen_qu8_qu8_qs32_gemm},
    {"f32_q8_quantize", chosen_f32_q8_quantize},
    {"q8_f32_dequantize", chosen_q8_f32_dequantize},
    {"qs32_q8_requantize_fp32", chosen_qs32_q8_requantize_fp32},
    {"qs32_q8_requantize_gemmlowp", chosen_qs32_q8_requantize_gemmlowp},
    {"qs8_q4_f32_wgemm", chosen_qs8_q4_f32_wgemm},
    {"f32_q4_f32_wgemm", chosen_f32_q4_f32_wgemm},
    {"qu8_qs8_qs32_dwconv2d", chosen_qu8_qs8_qs32_dwconv2d},
    {"qu8_qs8_qu8_dwconv2d_minmax_fp32", chosen_qu8_qs8_qu8_dwconv2d_minmax_fp32},
    {"qu8_qs8_qu8_dwconv2d_minmax_gemmlowp", chosen_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp},
    {"qu8_im2col", chosen_qu8_im2col},
    {"f32_gemm", chosen_f32_gemm},
    {"f32_dwconv2d", chosen_f32_dwconv2d},
};

const qb_catalog_family* qb_catalog_families(size_t* count) {
  *count = sizeof k_families / sizeof k_families[0];
  return k_families;
}

void qb_catalog_backend_list(qb_backend_set set, char* buf, size_t size) {
  size_t used = 0;
  if (size) buf[0] = '\0';
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    if (!(set & QB_BACKEND_BIT(b)) || used >= size) continue;
    const int w = snprintf(buf + used, size - used, "%s%s", used ? "," : "",
                           qb_backend_name((qb_backend)b));
    if (w > 0) used += (size_t)w;
  }
}

void qb_catalog_backend_json(qb_backend_set set, FILE* f) {
  fputc('[', f);
  int first = 1;
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    if (!(set & QB_BACKEND_BIT(b))) continue;
    fprintf(f, "%s\"%s\"", first ? "" : ", ", qb_backend_name((qb_backend)b));
    first = 0;
  }
  fputc(']', f);
}

int qb_catalog_set_isa(const char* list, qb_error* err) {
  qb_backend_set mask;
  char msg[512];
  if (qb_isa_mask_parse(list, &mask, msg, sizeof msg) != 0) return qb_fail(err, "--isa: %s", msg);
  if (qb_isa_set_mask(mask) != 0)
    return qb_fail(err, "--isa: the ISA mask is already in use and cannot change");
  return 0;
}
