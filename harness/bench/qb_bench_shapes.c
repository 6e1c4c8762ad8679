/* Shape sets of `qbench bench`. See qb_bench_shapes.h. */
#include "qb_bench_shapes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const qb_bench_shape k_standard[] = {
    {1, 4096, 4096},  {1, 1024, 1024},  {16, 4096, 4096},
    {128, 1024, 1024}, {256, 4096, 4096}, {64, 512, 784},
};

/* Fashion-MNIST reference MLP 784-256-128-10: layer l maps in[l] -> out[l]. */
static const size_t k_mlp_in[] = {784, 256, 128}, k_mlp_out[] = {256, 128, 10};
static const size_t k_batches[] = {1, 64};

static int append(qb_bench_shape s, qb_bench_shape* shapes, size_t* count, qb_error* err) {
  if (*count >= QB_BENCH_MAX_SHAPES)
    return qb_fail(err, "--shapes: more than %d shapes", QB_BENCH_MAX_SHAPES);
  shapes[(*count)++] = s;
  return 0;
}

static int parse_dim(const char* text, size_t len, const char* what, unsigned long hi,
                     const char* shape, size_t* out, qb_error* err) {
  char buf[32];
  if (len == 0 || len >= sizeof buf)
    return qb_fail(err, "--shapes: '%s': %s is missing or too long (expected M,N,K)", shape,
                   what);
  memcpy(buf, text, len);
  buf[len] = '\0';
  char* end;
  errno = 0;
  const unsigned long v = strtoul(buf, &end, 10);
  if (errno || *end || buf[0] == '-' || v < 1 || v > hi)
    return qb_fail(err, "--shapes: '%s': %s = '%s' is not an integer in 1..%lu", shape, what,
                   buf, hi);
  *out = v;
  return 0;
}

/* One "M,N,K" of length len. */
static int parse_one(const char* text, size_t len, qb_bench_shape* s, qb_error* err) {
  char shape[128];
  snprintf(shape, sizeof shape, "%.*s", (int)(len < 100 ? len : 100), text);
  const char* c1 = memchr(text, ',', len);
  const char* c2 = c1 ? memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - text)) : NULL;
  if (!c1 || !c2 || memchr(c2 + 1, ',', len - (size_t)(c2 + 1 - text)))
    return qb_fail(err, "--shapes: '%s' is not M,N,K (three comma-separated integers), "
                        "'standard' or 'models'", shape);
  const char* endp = text + len;
  if (parse_dim(text, (size_t)(c1 - text), "M", 1048576, shape, &s->M, err) ||
      parse_dim(c1 + 1, (size_t)(c2 - c1 - 1), "N", 1048576, shape, &s->N, err) ||
      parse_dim(c2 + 1, (size_t)(endp - c2 - 1), "K", 33025, shape, &s->K, err))
    return -1;
  return 0;
}

int qb_bench_shapes_parse(const char* spec, qb_bench_shape* shapes, size_t* count,
                          qb_error* err) {
  if (!strcmp(spec, "standard")) {
    for (size_t i = 0; i < sizeof k_standard / sizeof k_standard[0]; i++)
      if (append(k_standard[i], shapes, count, err)) return -1;
    return 0;
  }
  if (!strcmp(spec, "models")) {
    for (size_t b = 0; b < sizeof k_batches / sizeof k_batches[0]; b++)
      for (size_t l = 0; l < sizeof k_mlp_in / sizeof k_mlp_in[0]; l++)
        if (append((qb_bench_shape){k_batches[b], k_mlp_out[l], k_mlp_in[l]}, shapes, count, err))
          return -1;
    return 0;
  }
  if (!*spec) return qb_fail(err, "--shapes: empty (expected standard, models or M,N,K;...)");
  for (const char* p = spec;;) {
    const char* semi = strchr(p, ';');
    const size_t len = semi ? (size_t)(semi - p) : strlen(p);
    qb_bench_shape s;
    if (parse_one(p, len, &s, err) || append(s, shapes, count, err)) return -1;
    if (!semi) break;
    p = semi + 1;
    if (!*p) break; /* a trailing ';' is fine */
  }
  return 0;
}
