/* Multi-threaded uint8 im2col over any entry of its dispatch list
 * (kernels/qb_dispatch.h), run on a qb_thread_pool.
 *
 * Split: the P = out_h * out_w rows of the column matrix are cut into T contiguous
 * ranges of whole 16-row blocks (the SIMD kernels' block), task t copying its rows.
 * Rows are disjoint and each byte is a copy, so the matrix is the same for any
 * thread count. */
#ifndef QB_IM2COL_THREADED_H
#define QB_IM2COL_THREADED_H

#include <stddef.h>
#include <stdint.h>

#include "qb_dispatch.h"
#include "qb_thread_pool.h"

/* Column matrix of image `image` (one image, NCHW), group `group`, into `columns`
 * (P x K, K = in_channels / groups * kernel_h * kernel_w). NULL pool: calling thread. */
void qb_im2col_threaded_run(const qb_qu8_im2col_entry* entry, qb_thread_pool* pool,
                            const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                            uint8_t pad_value, uint8_t* columns);

#endif
