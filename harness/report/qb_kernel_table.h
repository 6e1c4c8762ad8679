/* Google Benchmark series of `qbench bench` regrouped for the backend comparison:
 * names read <group>/<impl>[/rule:<r>]/M:<M>/N:<N>/K:<K>/threads:<T>/real_time
 * (GEMMs: group gemm, gemm-fused) or <group>/<impl>[/rule:<r>]/n:<n>/threads:<T>/...
 * (quantize, dequantize, requantize), where <impl> is a kernel
 * (qb_qu8_qs8_qs32_gemm_8x32c4__avx512vnni: family qb_qu8_qs8_qs32_gemm, variant
 * "8x32c4 avx512vnni"; the scalar reference has no tile: "scalar") or a peer
 * (onednn_u8s8s32_matmul, openblas_sgemm). gemm-fused families are the GEMM's
 * family + "+requantize_<rule>". A table is one family x shapes x variants (plus
 * the peers as columns, GEMM tables only), of GOPS (elementwise: G elements/s,
 * rows "n16384 t1"). */
#ifndef QB_KERNEL_TABLE_H
#define QB_KERNEL_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "qb_run_data.h"

enum { QB_KT_MAX_COLS = 16, QB_KT_MAX_ROWS = 32, QB_KT_MAX_FAMILIES = 16 };

typedef struct {
  char family[64];
  char cols[QB_KT_MAX_COLS][48]; /* variants, then peers */
  int ncols, npeer_cols;         /* the last npeer_cols columns are peers */
  char rows[QB_KT_MAX_ROWS][48]; /* shapes "M1 N64 K64 t1" */
  int nrows;
  double gops[QB_KT_MAX_ROWS][QB_KT_MAX_COLS]; /* NaN if not measured */
} qb_kernel_table;

/* Splits a benchmark name; false if it is not of the form above. */
bool qb_kernel_name_parse(const char* name, char* family, size_t fsize, char* variant,
                          size_t vsize, char* shape, size_t ssize, bool* is_peer);

/* One table per kernel family found (peers are added to every table). Returns the
 * number of tables written to out (at most max). */
int qb_kernel_tables(const qb_run_data* run, qb_kernel_table* out, int max);

#endif
