/* Fork-join thread pool. See qb_thread_pool.h for the model.
 *
 * Protocol. `generation` counts published jobs. The caller fills the job fields,
 * sets `pending` to T-1, then increments `generation` (release) while holding the
 * mutex and broadcasts. A worker that sees a new generation (acquire) reads the job,
 * runs its tasks and decrements `pending` (release); the caller waits for pending
 * == 0 (acquire), so every task's writes are visible when run returns. A worker
 * checks the generation again under the mutex before sleeping, and the caller bumps
 * it under the same mutex: no wake-up is lost. */
#define _GNU_SOURCE /* sched_getaffinity / sched_setaffinity */
#include "qb_thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "qb_affinity.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QB_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define QB_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define QB_CPU_RELAX() ((void)0)
#endif

/* About 50-100 us of pause instructions before a worker sleeps. */
enum { QB_POOL_SPIN = 1 << 14 };

typedef struct {
  qb_thread_pool* pool;
  size_t index;
  pthread_t thread;
  bool bound;
} qb_pool_worker;

struct qb_thread_pool {
  size_t threads;
  bool bind;
  pthread_mutex_t mutex;
  pthread_cond_t wake;
  atomic_ulong generation;
  atomic_size_t pending;
  atomic_bool stop;
  /* The job (written by the caller before `generation` is bumped). */
  qb_parallel_task_fn fn;
  void* ctx;
  size_t tasks;
  bool caller_bound;
  bool caller_saved;
  cpu_set_t caller_affinity; /* restored by destroy: binding is for the pool's lifetime */
  qb_pool_worker* workers; /* threads - 1 of them: index 1..threads-1 */
  size_t started;
};

static void run_share(qb_thread_pool* p, size_t t) {
  for (size_t task = t; task < p->tasks; task += p->threads) p->fn(p->ctx, task, t);
}

static unsigned long wait_for_job(qb_thread_pool* p, unsigned long seen) {
  for (int i = 0; i < QB_POOL_SPIN; i++) {
    const unsigned long g = atomic_load_explicit(&p->generation, memory_order_acquire);
    if (g != seen || atomic_load(&p->stop)) return g;
    QB_CPU_RELAX();
  }
  pthread_mutex_lock(&p->mutex);
  unsigned long g;
  while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
         !atomic_load(&p->stop))
    pthread_cond_wait(&p->wake, &p->mutex);
  pthread_mutex_unlock(&p->mutex);
  return g;
}

static void* worker_main(void* arg) {
  qb_pool_worker* w = arg;
  qb_thread_pool* p = w->pool;
  if (p->bind) w->bound = qb_affinity_bind_thread((int)w->index) == 0;
  unsigned long seen = 0;
  for (;;) {
    seen = wait_for_job(p, seen);
    if (atomic_load(&p->stop)) break;
    run_share(p, w->index);
    atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
  }
  return NULL;
}

qb_thread_pool* qb_thread_pool_create(size_t threads, bool bind, qb_error* err) {
  if (threads < 1 || threads > QB_THREAD_POOL_MAX) {
    qb_fail(err, "thread pool: %zu threads is outside 1..%d", threads, QB_THREAD_POOL_MAX);
    return NULL;
  }
  qb_thread_pool* p = calloc(1, sizeof *p);
  qb_pool_worker* w = threads > 1 ? calloc(threads - 1, sizeof *w) : NULL;
  if (!p || (threads > 1 && !w)) {
    free(p);
    free(w);
    qb_fail(err, "thread pool: out of memory");
    return NULL;
  }
  p->threads = threads;
  p->bind = bind;
  p->workers = w;
  pthread_mutex_init(&p->mutex, NULL);
  pthread_cond_init(&p->wake, NULL);
  atomic_init(&p->generation, 0);
  atomic_init(&p->pending, 0);
  atomic_init(&p->stop, false);
  if (bind) {
    p->caller_saved = sched_getaffinity(0, sizeof p->caller_affinity, &p->caller_affinity) == 0;
    p->caller_bound = qb_affinity_bind_thread(0) == 0;
  }
  for (size_t i = 1; i < threads; i++) {
    w[i - 1].pool = p;
    w[i - 1].index = i;
    if (pthread_create(&w[i - 1].thread, NULL, worker_main, &w[i - 1]) != 0) {
      qb_fail(err, "thread pool: cannot start thread %zu of %zu", i, threads);
      qb_thread_pool_destroy(p);
      return NULL;
    }
    p->started = i;
  }
  /* One empty job: returns once every worker has started (and bound itself). */
  qb_thread_pool_run(p, 0, NULL, NULL);
  return p;
}

void qb_thread_pool_destroy(qb_thread_pool* p) {
  if (!p) return;
  pthread_mutex_lock(&p->mutex);
  atomic_store(&p->stop, true);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mutex);
  for (size_t i = 0; i < p->started; i++) pthread_join(p->workers[i].thread, NULL);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->mutex);
  if (p->caller_saved) sched_setaffinity(0, sizeof p->caller_affinity, &p->caller_affinity);
  free(p->workers);
  free(p);
}

size_t qb_thread_pool_threads(const qb_thread_pool* p) { return p->threads; }

bool qb_thread_pool_bound(const qb_thread_pool* p) {
  if (!p->bind || !p->caller_bound) return false;
  for (size_t i = 0; i + 1 < p->threads; i++)
    if (!p->workers[i].bound) return false;
  return true;
}

static void noop_task(void* ctx, size_t task, size_t thread) {
  (void)ctx, (void)task, (void)thread;
}

void qb_thread_pool_run(qb_thread_pool* p, size_t tasks, qb_parallel_task_fn fn, void* ctx) {
  p->fn = fn ? fn : noop_task;
  p->ctx = ctx;
  p->tasks = tasks;
  if (p->threads == 1) {
    run_share(p, 0);
    return;
  }
  atomic_store_explicit(&p->pending, p->threads - 1, memory_order_relaxed);
  pthread_mutex_lock(&p->mutex);
  atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mutex);
  run_share(p, 0);
  for (unsigned long spins = 0;
       atomic_load_explicit(&p->pending, memory_order_acquire) != 0; spins++) {
    if (spins < QB_POOL_SPIN)
      QB_CPU_RELAX();
    else
      sched_yield();
  }
}
