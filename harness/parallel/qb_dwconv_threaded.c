/* Threaded fused depthwise conv: channel ranges per task. See qb_dwconv_threaded.h. */
#include "qb_dwconv_threaded.h"

typedef struct {
  const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* entry; /* one of the two */
  const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry* gemmlowp;
  const qb_dwconv_args* a;
  size_t tasks;
} dwconv_job;

static void dwconv_task(void* ctx, size_t task, size_t thread) {
  (void)thread;
  const dwconv_job* j = ctx;
  const qb_dwconv_args* a = j->a;
  const size_t C = a->shape->out_channels, groups = (C + 15) / 16, T = j->tasks;
  /* Whole groups of 16 channels (the kernels' channels-in-lanes block) when there
   * are enough of them, else an even split of the channels. */
  size_t c0 = task * C / T, c1 = (task + 1) * C / T;
  if (groups >= T) {
    c0 = task * groups / T * 16, c1 = (task + 1) * groups / T * 16;
    if (c1 > C) c1 = C;
  }
  if (c0 >= c1) return;
  if (j->entry)
    j->entry->run(a->shape, c0, c1, a->x, a->x_zero_point, a->w, a->w_zero_point, a->bias,
                  a->scale, a->y_zero_point, a->qmin, a->qmax, a->y);
  else
    j->gemmlowp->run(a->shape, c0, c1, a->x, a->x_zero_point, a->w, a->w_zero_point, a->bias,
                     a->multiplier, a->y_zero_point, a->qmin, a->qmax, a->y);
}

static void run_job(dwconv_job* j, qb_thread_pool* pool) {
  if (j->tasks == 1)
    dwconv_task(j, 0, 0);
  else
    qb_thread_pool_run(pool, j->tasks, dwconv_task, j);
}

void qb_dwconv_threaded_run(const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* entry,
                            qb_thread_pool* pool, const qb_dwconv_args* a) {
  dwconv_job j = {entry, NULL, a, pool ? qb_thread_pool_threads(pool) : 1};
  run_job(&j, pool);
}

void qb_dwconv_threaded_run_gemmlowp(const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry* entry,
                                     qb_thread_pool* pool, const qb_dwconv_args* a) {
  dwconv_job j = {NULL, entry, a, pool ? qb_thread_pool_threads(pool) : 1};
  run_job(&j, pool);
}
