/* Pinning threads to cores with hwloc, for benchmarks whose threads must not share
 * a core (roofline probe, multi-threaded kernel runs). */
#ifndef QB_AFFINITY_H
#define QB_AFFINITY_H

/* Binds the calling thread to one PU of the slot-th core (hwloc's logical order),
 * so slots 0..cores-1 land on distinct cores. Slots beyond the core count wrap onto
 * PUs (SMT siblings) in order. Returns 0 if bound, -1 if hwloc could not bind (the
 * thread then runs where the OS puts it). Thread-safe; the topology is loaded once
 * per process. */
int qb_affinity_bind_thread(int slot);

/* Number of cores hwloc sees (>= 1; 1 if hwloc fails). */
int qb_affinity_core_count(void);

#endif
