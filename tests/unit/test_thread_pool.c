/* Thread pool (harness/parallel): on 1, 2, 3 and 5 threads, thousands of jobs of 0 to
 * 40 tasks run every task exactly once, with the job's own ctx and a thread index
 * below T. Jobs alternate between two counters, so a worker that claimed a task of a
 * finished job or read the other job's slot would bump the wrong counter. Task
 * bodies of varied length let fast threads overtake slow ones. */
#include <stdatomic.h>
#include <stdlib.h>

#include "qb_test.h"
#include "qb_thread_pool.h"

enum { MAX_TASKS = 40 };

typedef struct {
  atomic_int runs[MAX_TASKS + 1];
  atomic_int bad_thread;
  size_t threads;
} counter;

static void count_task(void* ctx, size_t task, size_t thread) {
  counter* c = ctx;
  if (thread >= c->threads) atomic_fetch_add(&c->bad_thread, 1);
  volatile unsigned spin = 0;
  for (size_t i = 0; i < (task * 7919u) % 2000u; i++) spin += (unsigned)i;
  atomic_fetch_add(&c->runs[task < MAX_TASKS ? task : MAX_TASKS], 1);
}

static void reset(counter* c, size_t threads) {
  for (int i = 0; i <= MAX_TASKS; i++) atomic_init(&c->runs[i], 0);
  atomic_init(&c->bad_thread, 0);
  c->threads = threads;
}

static void check_pool(size_t threads) {
  qb_error err = {0};
  qb_thread_pool* pool = qb_thread_pool_create(threads, false, &err);
  QB_CHECK_MSG(pool != NULL, "%s", err.msg);
  if (!pool) return;
  QB_CHECK_EQ_INT(qb_thread_pool_threads(pool), threads);
  static counter c[2];
  int wrong = 0;
  for (int job = 0; job < 3000; job++) {
    counter* mine = &c[job & 1];
    counter* other = &c[(job & 1) ^ 1];
    reset(mine, threads);
    reset(other, threads);
    const size_t tasks = qb_rand_below(MAX_TASKS + 1);
    qb_thread_pool_run(pool, tasks, count_task, mine);
    for (size_t t = 0; t <= MAX_TASKS; t++) {
      wrong += atomic_load(&mine->runs[t]) != (t < tasks ? 1 : 0);
      wrong += atomic_load(&other->runs[t]) != 0;
    }
    wrong += atomic_load(&mine->bad_thread) != 0;
  }
  QB_CHECK_MSG(wrong == 0, "%d wrong counts on %zu threads", wrong, threads);
  qb_thread_pool_destroy(pool);
}

int main(void) {
  qb_test_seed(0x706f6f6cu);
  const size_t threads[] = {1, 2, 3, 5};
  for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++) check_pool(threads[i]);
  qb_error err = {0};
  QB_CHECK(qb_thread_pool_create(0, false, &err) == NULL);
  return qb_test_finish("test_thread_pool");
}
