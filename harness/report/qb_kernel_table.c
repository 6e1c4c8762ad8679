#include "qb_kernel_table.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* "/rule:<r>" after the implementation (gemm-fused, requantize): r, and the rest. */
static const char* skip_rule(const char* q, char* rule, size_t rsize) {
  rule[0] = '\0';
  if (strncmp(q, "/rule:", 6) != 0) return q;
  const char* end = strchr(q + 6, '/');
  if (!end) return q;
  snprintf(rule, rsize, "%.*s", (int)(end - q - 6), q + 6);
  return end;
}

/* "/M:../N:../K:../threads:.." or "/n:../threads:.." into the row label. */
static bool parse_shape(const char* q, char* shape, size_t ssize) {
  int m, n, k, t;
  if (sscanf(q, "/M:%d/N:%d/K:%d/threads:%d", &m, &n, &k, &t) == 4) {
    snprintf(shape, ssize, "M%d N%d K%d t%d", m, n, k, t);
    return true;
  }
  if (sscanf(q, "/n:%d/threads:%d", &n, &t) == 2) {
    snprintf(shape, ssize, "n%d t%d", n, t);
    return true;
  }
  return false;
}

/* Kernel name (without "__isa") into family and variant, at the tile token. */
static void split_kernel(char* impl, const char* isa, char* family, size_t fsize, char* variant,
                         size_t vsize) {
  /* The tile token starts with digits followed by 'x' (8x32c4); it and what follows
   * (a variant such as _sat) name the variant, what precedes it the family. */
  char* tile = NULL;
  for (char* s = strchr(impl, '_'); s && !tile; s = strchr(s + 1, '_')) {
    const char* d = s + 1;
    while (*d >= '0' && *d <= '9') d++;
    if (d > s + 1 && *d == 'x') tile = s;
  }
  if (tile) {
    *tile = '\0';
    snprintf(variant, vsize, "%s %s", tile + 1, isa);
  } else {
    snprintf(variant, vsize, "%s", isa);
  }
  snprintf(family, fsize, "%s", impl);
}

bool qb_kernel_name_parse(const char* name, char* family, size_t fsize, char* variant,
                          size_t vsize, char* shape, size_t ssize, bool* is_peer) {
  char impl[128], rule[32];
  const char* p = strchr(name, '/');
  if (!p) return false;
  const char* q = strchr(p + 1, '/');
  if (!q || (size_t)(q - p - 1) >= sizeof impl) return false;
  snprintf(impl, sizeof impl, "%.*s", (int)(q - p - 1), p + 1);
  q = skip_rule(q, rule, sizeof rule);
  if (!parse_shape(q, shape, ssize)) return false;
  *is_peer = strncmp(impl, "qb_", 3) != 0;
  if (*is_peer) {
    snprintf(family, fsize, "peer");
    snprintf(variant, vsize, "%s", !strncmp(impl, "onednn", 6) ? "oneDNN" : !strncmp(impl, "openblas", 8) ? "OpenBLAS-fp32" : impl);
    return true;
  }
  char* isa = strstr(impl, "__");
  if (!isa) return false;
  *isa = '\0';
  split_kernel(impl, isa + 2, family, fsize, variant, vsize);
  /* The fused GEMM is its own family per rule (requantize names carry the rule). */
  if (!strncmp(name, "gemm-fused/", 11) && rule[0]) {
    const size_t u = strlen(family);
    snprintf(family + u, fsize - u, "+requantize_%s", rule);
  }
  return true;
}

static int slot(char (*names)[48], int* n, int max, const char* name) {
  for (int i = 0; i < *n; i++)
    if (!strcmp(names[i], name)) return i;
  if (*n == max) return -1;
  snprintf(names[*n], 48, "%s", name);
  return (*n)++;
}

static qb_kernel_table* table_for(qb_kernel_table* out, int* nt, int max, const char* fam) {
  for (int t = 0; t < *nt; t++)
    if (!strcmp(out[t].family, fam)) return &out[t];
  if (*nt == max) return NULL;
  qb_kernel_table* T = &out[(*nt)++];
  memset(T, 0, sizeof *T);
  snprintf(T->family, sizeof T->family, "%s", fam);
  for (int r = 0; r < QB_KT_MAX_ROWS; r++)
    for (int c = 0; c < QB_KT_MAX_COLS; c++) T->gops[r][c] = NAN;
  return T;
}

static void put(qb_kernel_table* T, const char* var, const char* shape, double gops) {
  const int c = slot(T->cols, &T->ncols, QB_KT_MAX_COLS, var);
  const int r = slot(T->rows, &T->nrows, QB_KT_MAX_ROWS, shape);
  if (c >= 0 && r >= 0) T->gops[r][c] = gops;
}

int qb_kernel_tables(const qb_run_data* run, qb_kernel_table* out, int max) {
  int nt = 0;
  /* Pass 0: our kernels, one table per family; pass 1: the peers, appended as the
   * last columns of every table (they are every family's reference). */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < run->ngbench; i++) {
      char fam[64], var[48], shape[48];
      bool peer;
      const qb_gbench_series* g = &run->gbench[i];
      if (!qb_kernel_name_parse(g->name, fam, sizeof fam, var, sizeof var, shape, sizeof shape, &peer) ||
          peer != (pass == 1))
        continue;
      if (!peer) {
        qb_kernel_table* T = table_for(out, &nt, max, fam);
        if (T) put(T, var, shape, g->ops_per_s / 1e9);
        continue;
      }
      /* Only GEMM tables (rows M.. N.. K..): a peer is no reference for an
       * elementwise kernel. */
      for (int t = 0; t < nt; t++) {
        if (out[t].nrows && out[t].rows[0][0] != 'M') continue;
        const int before = out[t].ncols;
        put(&out[t], var, shape, g->ops_per_s / 1e9);
        out[t].npeer_cols += out[t].ncols > before;
      }
    }
  }
  return nt;
}
