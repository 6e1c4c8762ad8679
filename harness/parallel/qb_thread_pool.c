/* Fork-join thread pool. See qb_thread_pool.h for the model.
 *
 * Protocol. A job is published as a 64-bit `ticket`: its generation in the high 32
 * bits, the next unclaimed task in the low 32. The caller writes the job into the
 * slot of its generation's parity, then stores the ticket (release) and wakes the
 * workers. Every thread, the caller included, claims tasks by compare-and-swap on the
 * ticket, which fails as soon as the generation moved on, so a worker that wakes
 * late never runs a task of a finished job. A claim reads the slot after seeing its
 * generation (acquire), and job g+2 (the next writer of that slot) is published only
 * once every task of g is done, so a claimed task's fn/ctx are those of its job.
 * The caller waits for `done` to reach the task count (acquire): every task's writes
 * are visible when run returns, and it never waits for a worker that has not
 * started: a descheduled worker's share is run by whoever is awake.
 *
 * Which thread runs which task now depends on timing; the `thread` argument only
 * selects per-thread scratch, and every task's result depends on its index alone. */
#define _GNU_SOURCE /* sched_getaffinity / sched_setaffinity */
#include "qb_thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
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

/* Fields are atomics (relaxed) because a worker that read an old ticket may look at
 * a slot being rewritten two jobs later; its claim then fails and the value is unused. */
typedef struct {
  _Atomic(qb_parallel_task_fn) fn;
  _Atomic(void*) ctx;
  atomic_size_t tasks;
} qb_pool_job;

struct qb_thread_pool {
  size_t threads;
  bool bind;
  pthread_mutex_t mutex;
  pthread_cond_t wake;
  _Atomic uint64_t ticket; /* generation << 32 | next task */
  atomic_size_t done;
  atomic_size_t ready; /* workers started (and bound) */
  atomic_bool stop;
  uint32_t generation; /* the caller's count of published jobs */
  qb_pool_job slots[2];
  bool caller_bound;
  bool caller_saved;
  cpu_set_t caller_affinity; /* restored by destroy: binding is for the pool's lifetime */
  qb_pool_worker* workers; /* threads - 1 of them: index 1..threads-1 */
  size_t started;
};

static uint32_t ticket_generation(uint64_t ticket) { return (uint32_t)(ticket >> 32); }

/* Claims and runs tasks of job `generation` until none is left or the job is over. */
static void run_claims(qb_thread_pool* p, uint32_t generation, size_t thread) {
  qb_pool_job* job = &p->slots[generation & 1];
  uint64_t ticket = atomic_load_explicit(&p->ticket, memory_order_acquire);
  for (;;) {
    if (ticket_generation(ticket) != generation) return;
    const size_t task = (uint32_t)ticket;
    if (task >= atomic_load_explicit(&job->tasks, memory_order_relaxed)) return;
    if (!atomic_compare_exchange_weak_explicit(&p->ticket, &ticket, ticket + 1,
                                               memory_order_acq_rel, memory_order_acquire))
      continue;
    atomic_load_explicit(&job->fn, memory_order_relaxed)(
        atomic_load_explicit(&job->ctx, memory_order_relaxed), task, thread);
    atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    ticket = atomic_load_explicit(&p->ticket, memory_order_acquire);
  }
}

static uint32_t wait_for_job(qb_thread_pool* p, uint32_t seen) {
  for (int i = 0; i < QB_POOL_SPIN; i++) {
    const uint32_t g = ticket_generation(atomic_load_explicit(&p->ticket, memory_order_acquire));
    if (g != seen || atomic_load(&p->stop)) return g;
    QB_CPU_RELAX();
  }
  pthread_mutex_lock(&p->mutex);
  uint32_t g;
  while ((g = ticket_generation(atomic_load_explicit(&p->ticket, memory_order_acquire))) == seen &&
         !atomic_load(&p->stop))
    pthread_cond_wait(&p->wake, &p->mutex);
  pthread_mutex_unlock(&p->mutex);
  return g;
}

static void* worker_main(void* arg) {
  qb_pool_worker* w = arg;
  qb_thread_pool* p = w->pool;
  if (p->bind) w->bound = qb_affinity_bind_thread((int)w->index) == 0;
  atomic_fetch_add_explicit(&p->ready, 1, memory_order_release);
  uint32_t seen = 0;
  for (;;) {
    seen = wait_for_job(p, seen);
    if (atomic_load(&p->stop)) break;
    run_claims(p, seen, w->index);
  }
  return NULL;
}

static void wait_until(atomic_size_t* counter, size_t value) {
  for (unsigned long spins = 0; atomic_load_explicit(counter, memory_order_acquire) != value;
       spins++) {
    if (spins < QB_POOL_SPIN)
      QB_CPU_RELAX();
    else
      sched_yield();
  }
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
  atomic_init(&p->ticket, 0);
  atomic_init(&p->done, 0);
  atomic_init(&p->ready, 0);
  atomic_init(&p->stop, false);
  for (int s = 0; s < 2; s++) {
    atomic_init(&p->slots[s].fn, NULL);
    atomic_init(&p->slots[s].ctx, NULL);
    atomic_init(&p->slots[s].tasks, 0);
  }
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
  wait_until(&p->ready, threads - 1); /* every worker has bound itself */
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

size_t qb_thread_pool_threads_for(const qb_thread_pool* p, size_t work, size_t min_work) {
  return p && work >= min_work ? p->threads : 1;
}

bool qb_thread_pool_bound(const qb_thread_pool* p) {
  if (!p->bind || !p->caller_bound) return false;
  for (size_t i = 0; i + 1 < p->threads; i++)
    if (!p->workers[i].bound) return false;
  return true;
}

void qb_thread_pool_run(qb_thread_pool* p, size_t tasks, qb_parallel_task_fn fn, void* ctx) {
  if (tasks == 0) return;
  if (p->threads == 1 || tasks == 1) { /* nothing to share: no wake-up */
    for (size_t task = 0; task < tasks; task++) fn(ctx, task, 0);
    return;
  }
  const uint32_t g = ++p->generation;
  qb_pool_job* job = &p->slots[g & 1];
  atomic_store_explicit(&job->fn, fn, memory_order_relaxed);
  atomic_store_explicit(&job->ctx, ctx, memory_order_relaxed);
  atomic_store_explicit(&job->tasks, tasks, memory_order_relaxed);
  atomic_store_explicit(&p->done, 0, memory_order_relaxed);
  pthread_mutex_lock(&p->mutex);
  atomic_store_explicit(&p->ticket, (uint64_t)g << 32, memory_order_release);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mutex);
  run_claims(p, g, 0);
  wait_until(&p->done, tasks);
}
