/* The roofline of the machine at hand, measured rather than looked up: int8 and fp32
 * compute ceilings per backend (kernels/roofline) and read bandwidth of each cache
 * level and of DRAM, for 1 thread and for N threads (default: one per core, each
 * bound to its own core with hwloc). Benchmarks report "% of this machine's peak"
 * against these numbers.
 *
 * Units: GOPS for int8 (1 MAC = 2 ops; what counts as a MAC is documented in
 * kernels/roofline/qb_roofline_kernels.h), GFLOPS for fp32 (1 FMA = 2 FLOPs), GB/s
 * (10^9 bytes) for reads. Each figure is the median over `repetitions` timed runs
 * (after one untimed warm-up) of total work / wall time, where the wall time of a
 * multi-threaded run spans from the first thread's start to the last thread's end.
 * Runs during which another process took a share of a probe thread's core (seen
 * as thread CPU time < 90% of wall time) are left out of the median when at least
 * one clean run remains; the count of clean runs is part of the result.
 *
 * Working sets of the read ceilings: half of one L1d, half of one L2 (per thread:
 * private caches); for L3 half of all L3 instances, but at most the geometric mean
 * of all L2 and all L3 (VMs report the host's whole L3 and get a slice of it), shared
 * by the threads; and 8x the last-level cache for DRAM, capped at 1 GiB and a quarter
 * of memory (and at least 64 MiB). The sizes used are part of the result.
 *
 * The probe takes ~10 s. Results are cached per machine fingerprint (qb_machine.h)
 * in a JSON file, by default $XDG_CACHE_HOME/qbench/roofline-<fingerprint>.json or
 * ~/.cache/qbench/..., and reused until `force` is set or the probe, the
 * fingerprint or the thread count changes. A result in which some figure had no
 * clean run (`contended`) is written but not reused. */
#ifndef QB_ROOFLINE_H
#define QB_ROOFLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qb_error.h"
#include "qb_machine.h"
#include "roofline/qb_roofline_kernels.h" /* qb_roofline_kind, the probes */

/* Bumped whenever a loop or the method changes: cached results of another version
 * are re-measured. */
#define QB_ROOFLINE_PROBE_VERSION 2


enum { QB_ROOFLINE_MAX_ENTRIES = 16 };

typedef struct {
  char name[24];    /* stable key: int8_vnni_zmm, fp32_fma_ymm, read_dram, ... */
  char backend[16]; /* avx512vnni, avx2, sse41 */
  char what[96];    /* instruction mix or working set, for people */
  qb_roofline_kind kind;
  char unit[8];     /* GOPS, GFLOPS, GB/s */
  bool measured;    /* false: the backend is not usable here (values are 0) */
  int64_t ws_t1, ws_tn; /* read ceilings: total working set (bytes) of each run */
  double t1, t1_min, t1_max; /* 1 thread: median, min, max over repetitions */
  double tn, tn_min, tn_max; /* `threads` threads */
  /* Runs in which every thread had its core to itself (thread CPU time >= 90% of
   * wall time); the median is over these (over all runs if there are none). */
  int clean_t1, clean_tn;
} qb_roofline_entry;

typedef struct {
  int probe_version;
  char fingerprint[17];
  char brand[64];
  int threads;          /* N of the tn column */
  bool bound;           /* every worker thread was bound to its own core/PU */
  bool contended;       /* some figure had no clean run (see clean_t1): not trusted
                           from the cache, qb_roofline_get measures again */
  int repetitions;
  double seconds;       /* wall time of the probe that measured this */
  char measured_at[32]; /* UTC, ISO 8601 */
  bool from_cache;
  char cache_path[512]; /* file read or written; "" when caching is off */
  int n_entries;
  qb_roofline_entry entries[QB_ROOFLINE_MAX_ENTRIES];
} qb_roofline;

typedef struct {
  bool force;             /* measure even if a valid cached result exists */
  const char* cache_path; /* NULL: default path; "": no cache (neither read nor written) */
  int threads;            /* N; 0: one per core (hwloc) */
  int repetitions;        /* timed runs per figure; 0: 5 */
  double rep_seconds;     /* target length of one run; 0: 0.04 */
  int64_t dram_bytes;     /* DRAM working set; 0: the rule above */
  bool progress;          /* one line per ceiling on stderr while measuring */
} qb_roofline_options;

qb_roofline_options qb_roofline_default_options(void);

/* The default cache file for a fingerprint. Returns -1 if neither XDG_CACHE_HOME
 * nor HOME is set to an absolute path. */
int qb_roofline_default_cache_path(const char* fingerprint, char* buf, size_t size,
                                   qb_error* err);

/* The roofline for `m`: from the cache when valid and not forced, else measured
 * (and then written to the cache; a cache that cannot be written is not an error,
 * cache_path is then ""). */
int qb_roofline_get(const qb_machine* m, const qb_roofline_options* opt, qb_roofline* out,
                    qb_error* err);

/* Measures now; no cache involved. */
int qb_roofline_measure(const qb_machine* m, const qb_roofline_options* opt, qb_roofline* out,
                        qb_error* err);

/* Reads / writes the JSON form (the one qb_roofline_write_json prints). Saving is
 * atomic (temporary file + rename) and creates missing directories. */
int qb_roofline_load(const char* path, qb_roofline* out, qb_error* err);
int qb_roofline_save(const qb_roofline* r, const char* path, qb_error* err);

/* Entry by name, or NULL. */
const qb_roofline_entry* qb_roofline_find(const qb_roofline* r, const char* name);

/* JSON: one object, one entry per line (so it stays greppable and the loader stays
 * small). Text: a table ceiling / backend / unit / 1 thread / N threads / what. */
void qb_roofline_write_json(const qb_roofline* r, FILE* f);
void qb_roofline_write_text(const qb_roofline* r, FILE* f);

#endif
