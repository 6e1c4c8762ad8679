#include "qb_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int qb_test_failures = 0;
int qb_test_checks = 0;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

uint64_t qb_test_seed(uint64_t fallback) {
  const char* env = getenv("QB_TEST_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 0) : fallback;
  printf("seed: %llu (set QB_TEST_SEED to reproduce)\n", (unsigned long long)seed);
  rng_state = seed ? seed : 1;
  return seed;
}

uint64_t qb_rand_u64(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

uint32_t qb_rand_below(uint32_t n) { return n ? (uint32_t)((qb_rand_u64() >> 32) % n) : 0; }

int32_t qb_rand_range(int32_t lo, int32_t hi) {
  return lo + (int32_t)qb_rand_below((uint32_t)(hi - lo + 1));
}

float qb_rand_uniform(float lo, float hi) {
  return lo + (hi - lo) * (float)((qb_rand_u64() >> 40) * (1.0 / 16777216.0));
}

float qb_rand_normal(void) {
  double u1 = ((qb_rand_u64() >> 11) + 1.0) * (1.0 / 9007199254740993.0);
  double u2 = (qb_rand_u64() >> 11) * (1.0 / 9007199254740992.0);
  return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

#define GUARD 64
void* qb_guard_alloc(size_t bytes) {
  unsigned char* p = malloc(bytes + 2 * GUARD);
  if (!p) abort();
  memset(p, 0xA5, bytes + 2 * GUARD);
  return p + GUARD;
}

int qb_guard_check(const void* p, size_t bytes, const char* what) {
  const unsigned char* base = (const unsigned char*)p - GUARD;
  for (size_t i = 0; i < GUARD; i++) {
    if (base[i] != 0xA5 || base[GUARD + bytes + i] != 0xA5) {
      qb_test_failures++;
      fprintf(stderr, "guard bytes around %s were overwritten\n", what);
      return -1;
    }
  }
  qb_test_checks++;
  return 0;
}

void qb_guard_free(void* p) {
  if (p) free((unsigned char*)p - GUARD);
}

void qb_test_skip(const char* why) {
  printf("SKIP: %s\n", why);
  exit(77);
}

int qb_test_finish(const char* name) {
  printf("%s: %d checks, %d failed\n", name, qb_test_checks, qb_test_failures);
  return qb_test_failures ? 1 : 0;
}

void qb_test_each_reference_model(void (*check)(const char* path)) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", __FILE__); /* tests/common/qb_test.c in the source tree */
  char* p = strstr(dir, "tests/common/");
  if (p) *p = '\0';
  static const char* const names[] = {"mlp", "cnn", "dwnet", "vit"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[1200];
    snprintf(path, sizeof path, "%sharness/models/reference/%s.onnx", dir, names[i]);
    check(path);
  }
}
