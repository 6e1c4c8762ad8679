/* Threaded uint8 im2col: row ranges per task. See qb_im2col_threaded.h. */
#include "qb_im2col_threaded.h"

typedef struct {
  const qb_qu8_im2col_entry* entry;
  const qb_conv2d_shape* s;
  const uint8_t* image;
  size_t group, rows, tasks;
  uint8_t pad_value;
  uint8_t* columns;
} im2col_job;

static void im2col_task(void* ctx, size_t task, size_t thread) {
  (void)thread;
  const im2col_job* j = ctx;
  const size_t blocks = (j->rows + 15) / 16;
  const size_t p0 = task * blocks / j->tasks * 16;
  size_t p1 = (task + 1) * blocks / j->tasks * 16;
  if (p1 > j->rows) p1 = j->rows;
  if (p0 < p1) j->entry->run(j->s, j->image, j->group, j->pad_value, p0, p1, j->columns);
}

void qb_im2col_threaded_run(const qb_qu8_im2col_entry* entry, qb_thread_pool* pool,
                            const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                            uint8_t pad_value, uint8_t* columns) {
  const size_t T = pool ? qb_thread_pool_threads(pool) : 1;
  im2col_job j = {entry, s, image, group, qb_conv2d_out_h(s) * qb_conv2d_out_w(s), T,
                  pad_value, columns};
  if (T == 1)
    im2col_task(&j, 0, 0);
  else
    qb_thread_pool_run(pool, T, im2col_task, &j);
}
