/* QB_MULTIVERSION: compile a hot fp32 loop twice, for AVX2 and for the baseline ISA,
 * and pick one at load time (GCC's target_clones, an ifunc resolved once per
 * process). The harness is built for baseline x86-64 so the binary runs anywhere;
 * the fp32 ops between layers (Softmax, Erf, LayerNorm, element-wise) are where
 * that costs most. Both clones run the same IEEE operations in the same order (the
 * build turns FMA contraction off and allows no reassociation), so results are
 * bit-identical whichever clone runs: only the vector width changes. */
#ifndef QB_MULTIVERSION_H
#define QB_MULTIVERSION_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define QB_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define QB_MULTIVERSION
#endif

#endif
