/* FNV-1a, 64 bits: the one non-cryptographic hash of the project (ids in hash sets,
 * cache keys, the machine fingerprint, weight checksums). Fast, seedless and stable
 * across runs and platforms, which is what those keys need; not collision-resistant
 * against an adversary (nothing here hashes untrusted input for security). */
#ifndef QB_HASH_H
#define QB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define QB_FNV1A64_OFFSET 0xcbf29ce484222325ull /* 14695981039346656037 */
#define QB_FNV1A64_PRIME 1099511628211ull

/* h advanced over n bytes at p (start from QB_FNV1A64_OFFSET). */
static inline uint64_t qb_fnv1a64_update(uint64_t h, const void* p, size_t n) {
  const unsigned char* b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * QB_FNV1A64_PRIME;
  return h;
}

/* The hash of a NUL-terminated string's characters. */
static inline uint64_t qb_fnv1a64_str(const char* s) {
  uint64_t h = QB_FNV1A64_OFFSET;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * QB_FNV1A64_PRIME;
  return h;
}

#endif
