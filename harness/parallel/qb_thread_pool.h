/* A small fixed-size thread pool for the kernels' data-parallel loops.
 *
 * Threading model. A pool of T threads is the calling thread (worker 0) plus T-1
 * worker threads created once, optionally bound one per core with hwloc
 * (qb_affinity: worker t on core t, so no two workers share a core while t < cores).
 * qb_thread_pool_run(pool, tasks, fn, ctx) is a fork-join: it publishes one job whose
 * tasks every thread, the caller included, claims one at a time from a shared counter,
 * and returns when every task has finished. A worker that is descheduled or slow to
 * wake does not hold the job up: the awake threads run what it has not claimed. Which
 * thread runs which task depends on timing, so `thread` may only select per-thread
 * scratch, and a task's result must depend on its index alone (the GEMM driver's
 * integer tiles, an image of a batch): then results are identical for every T and
 * every schedule. Tasks of one job must write disjoint memory.
 *
 * Waiting. Benchmarked jobs are short (tens of microseconds for a GEMV), so idle
 * workers spin on the job counter for a while before sleeping on a condition
 * variable, and the caller spins (then yields) until the job is done. On a loaded
 * machine the spin is bounded, so an idle pool costs no CPU.
 *
 * One job at a time: run is not re-entrant and must be called from one thread. */
#ifndef QB_THREAD_POOL_H
#define QB_THREAD_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "qb_error.h"

typedef struct qb_thread_pool qb_thread_pool;

/* One task of a job: `task` in [0, tasks), `thread` in [0, T) is the worker running it. */
typedef void (*qb_parallel_task_fn)(void* ctx, size_t task, size_t thread);

enum { QB_THREAD_POOL_MAX = 256 };

/* Creates a pool of `threads` (1..QB_THREAD_POOL_MAX) threads, the caller included.
 * bind: pin worker t (and the caller, as worker 0) to core t with hwloc; a failed
 * binding is not an error (qb_thread_pool_bound tells). The caller's previous CPU
 * set is restored by qb_thread_pool_destroy (threads it creates later, e.g. an
 * OpenMP runtime's, inherit its CPU set and must not all land on core 0). Returns NULL and fills err
 * on failure. */
qb_thread_pool* qb_thread_pool_create(size_t threads, bool bind, qb_error* err);
void qb_thread_pool_destroy(qb_thread_pool* pool);

size_t qb_thread_pool_threads(const qb_thread_pool* pool);
/* True if every thread (the caller included) was bound to its own core or PU. */
bool qb_thread_pool_bound(const qb_thread_pool* pool);

/* The threads a job of `work` units should use: all of the pool's, or 1 (the caller
 * alone, no wake-up) when there is no pool or work < min_work. Below a few
 * microseconds of work the fork-join costs more than the second thread saves. */
size_t qb_thread_pool_threads_for(const qb_thread_pool* pool, size_t work, size_t min_work);

/* Runs fn(ctx, task, thread) for every task in [0, tasks) (tasks < 2^32) and waits for
 * all. One task, or a pool of one thread, runs on the caller without waking anyone. */
void qb_thread_pool_run(qb_thread_pool* pool, size_t tasks, qb_parallel_task_fn fn, void* ctx);

#endif
