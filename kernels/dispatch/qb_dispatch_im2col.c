/* Kernel list of the uint8 im2col family (best first, scalar last; rules in
 * qb_dispatch.h). The scalar entry is the reference function. */
#include "im2col/qb_im2col.h"
#include "qb_dispatch.h"

#define QB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const qb_qu8_im2col_entry im2col_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    {{"qb_qu8_im2col__sse41", QB_BACKEND_SSE41, true}, qb_qu8_im2col__sse41},
#endif
#if defined(__aarch64__)
    {{"qb_qu8_im2col__neon", QB_BACKEND_NEON, true}, qb_qu8_im2col__neon},
#endif
    {{"qb_qu8_im2col_rows__scalar", QB_BACKEND_SCALAR, true}, qb_qu8_im2col_rows__scalar},
};

const qb_qu8_im2col_entry* qb_qu8_im2col_entries(size_t* count) {
  *count = QB_COUNT(im2col_list);
  return im2col_list;
}
