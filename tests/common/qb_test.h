/* Minimal test support: checks that report file:line and keep going, a seeded
 * PRNG whose seed is printed (QB_TEST_SEED overrides it), and guard-byte buffers
 * for catching out-of-bounds writes. A test's main returns qb_test_finish(). */
#ifndef QB_TEST_H
#define QB_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int qb_test_failures;
extern int qb_test_checks;

#define QB_CHECK(cond)                                                          \
  do {                                                                          \
    qb_test_checks++;                                                           \
    if (!(cond)) {                                                              \
      qb_test_failures++;                                                       \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
    }                                                                           \
  } while (0)

#define QB_CHECK_MSG(cond, ...)                                                 \
  do {                                                                          \
    qb_test_checks++;                                                           \
    if (!(cond)) {                                                              \
      qb_test_failures++;                                                       \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);  \
      fprintf(stderr, __VA_ARGS__);                                             \
      fputc('\n', stderr);                                                      \
    }                                                                           \
  } while (0)

#define QB_CHECK_EQ_INT(a, b)                                                          \
  do {                                                                                 \
    long long qb_a_ = (long long)(a), qb_b_ = (long long)(b);                          \
    qb_test_checks++;                                                                  \
    if (qb_a_ != qb_b_) {                                                              \
      qb_test_failures++;                                                              \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
              #b, qb_a_, qb_b_);                                                       \
    }                                                                                  \
  } while (0)

/* Bit-exact float comparison (memcmp of the representation). */
#define QB_CHECK_EQ_F32(a, b)                                                           \
  do {                                                                                  \
    float qb_a_ = (a), qb_b_ = (b);                                                     \
    qb_test_checks++;                                                                   \
    if (memcmp(&qb_a_, &qb_b_, sizeof qb_a_) != 0) {                                    \
      qb_test_failures++;                                                               \
      fprintf(stderr, "%s:%d: %s == %s failed: %.9g != %.9g\n", __FILE__, __LINE__, #a, \
              #b, (double)qb_a_, (double)qb_b_);                                        \
    }                                                                                   \
  } while (0)

/* Seeded xorshift64* PRNG. qb_test_seed() reads QB_TEST_SEED or uses `fallback`,
 * prints the seed, and seeds the generator. */
uint64_t qb_test_seed(uint64_t fallback);
uint64_t qb_rand_u64(void);
uint32_t qb_rand_below(uint32_t n);          /* uniform in [0, n) */
int32_t qb_rand_range(int32_t lo, int32_t hi); /* uniform in [lo, hi] */
float qb_rand_uniform(float lo, float hi);
float qb_rand_normal(void);

/* Guarded buffer: `bytes` usable bytes with 64 guard bytes of 0xA5 on each side.
 * The payload is pre-filled with 0xA5 too. qb_guard_check reports corruption. */
void* qb_guard_alloc(size_t bytes);
int qb_guard_check(const void* p, size_t bytes, const char* what);
void qb_guard_free(void* p);

/* Exit 77 (CTest: skipped) with a reason. */
void qb_test_skip(const char* why) __attribute__((noreturn));

/* Prints "N checks, M failed" and returns the exit status. */
int qb_test_finish(const char* name);

/* check(path) for the four reference models, harness/models/reference/
 * {mlp,cnn,dwnet,vit}.onnx of this source tree (present or not: check decides). */
void qb_test_each_reference_model(void (*check)(const char* path));

#endif
