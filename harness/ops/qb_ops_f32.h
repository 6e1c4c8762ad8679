/* The fp32 compute path of Gemm / MatMul / Conv (qb_ops_f32.c): the packed-B GEMM
 * microkernels of the dispatch table (kernels/f32-gemm), constant weights packed
 * once at prepare, threads from qb_model_set_threads. Internal to the model runtime (graph, ops). */
#ifndef QB_OPS_F32_H
#define QB_OPS_F32_H

#include "qb_f32_gemm_threaded.h"
#include "qb_model_internal.h"

struct qb_f32_runtime {
  const qb_f32_gemm_entry* entry; /* qb_dispatch_best()'s f32_gemm */
  qb_thread_pool* pool;           /* NULL: one thread */
  size_t threads;
  size_t nnodes;
  qb_f32_packed_b* packed;        /* per node: its constant B, packed (packed NULL if none) */
  const float** packed_src;       /* per node: the constant data packed[k] was made from */
  float* scratch;                 /* per-call packing of a variable B / im2col (64-aligned) */
  size_t scratch_floats;
  /* A quantized layer's own weights (weight-only: its dequantized copy) given to node
   * hint_node for one op call: packed once into *hint_pack, owned by the layer, and
   * reused on every later call instead of being repacked into the scratch. */
  size_t hint_node;
  const float* hint_src;
  qb_f32_packed_b* hint_pack;
  /* Conv: conv_threads scratches of conv_floats floats (64-aligned), one per thread;
   * conv_need: the floats the prepared model's convs need. */
  float* conv_scratch;
  size_t conv_floats, conv_threads, conv_need;
};

/* A Relu or a Clip with constant bounds fused into the Conv / Gemm before it (the
 * fp32 run, qb_model_run_nodes_f32): applied to every final output value (after the
 * bias, or alpha*AB + beta*C) in the pass that already writes it, with the very
 * expressions of the separate ops (qb_ops_elementwise.c calls the same inlines), so
 * fused and unfused runs give the same bits:
 *   Relu: x > 0 ? x : +0         (-0 and NaN become +0)
 *   Clip: x < lo ? lo : (x > hi ? hi : x)   (NaN passes, -0 stays -0 when lo <= 0)
 * Not fmaxf / fminf, nor a max instruction: those treat NaN and -0 differently. */
typedef struct {
  qb_op op; /* QB_OP_RELU or QB_OP_CLIP */
  float lo, hi;
} qb_f32_act;

static inline float qb_f32_relu(float x) { return x > 0.0f ? x : 0.0f; }
static inline float qb_f32_clip(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}
/* In place over `planes` runs of n floats: y[o*n + t] = act(y[o*n + t] + bias[o])
 * (bias NULL: no add, so -0 stays -0 before the activation; act NULL: none). */
void qb_f32_epilogue(float* y, size_t planes, size_t n, const float* bias,
                     const qb_f32_act* act);

/* At prepare (after shape inference): creates the runtime if needed, packs the
 * constant B of every Gemm / MatMul not packed yet, sizes the scratch. */
int qb_f32_runtime_prepare(qb_model* m, qb_error* err);
void qb_f32_runtime_free(qb_model* m);

/* C (M x N, ldc) = A x B for node k: A element (i, kk) at A[i*sa_i + kk*sa_k], B
 * element (kk, j) at B[kk*sb_k + j*sb_j]. Uses node k's packed constant when B is
 * that constant, else packs B into the scratch; falls back to the reference
 * (identical bits) when A's k is not contiguous. */
void qb_f32_node_gemm(const qb_model* m, size_t k, size_t M, size_t N, size_t K, const float* A,
                      size_t sa_i, size_t sa_k, const float* B, size_t sb_k, size_t sb_j, float* C,
                      size_t ldc);

/* For the next op call of node k only (until qb_f32_hint_clear): B == src is packed
 * once into *pack (filled on first use, freed by the owner with
 * qb_f32_packed_b_free) and reused afterwards. */
void qb_f32_hint_packed_b(const qb_model* m, size_t k, const float* src, qb_f32_packed_b* pack);
void qb_f32_hint_clear(const qb_model* m);

/* Conv of a batch (NCHW, bias optional): per image, the group's channels copied to
 * zero-padded planes, im2col packed straight into the GEMM's panels (1x1 stride 1
 * unpadded: the image itself is B), the GEMM with the group's weights as A, the
 * bias added while the output is compacted (qb_ops_f32.c explains the layout).
 * Depthwise (one input and one output channel per group) runs the direct kernel
 * (kernels/f32-dwconv). With T threads and a batch of at least T images, the
 * images are split over the threads; else each image's GEMM is. */
/* act (NULL: none) is applied with the bias, in the same pass. */
void qb_f32_conv(const qb_model* m, const qb_conv2d_shape* s, const float* x, const float* w,
                 const float* bias, const qb_f32_act* act, float* y);
/* One image, all groups; pool threads its GEMMs (NULL: the caller), scratch holds
 * the per-thread conv scratch. */
void qb_f32_conv_image(const qb_model* m, const qb_conv2d_shape* s, const float* image,
                       const float* w, const float* bias, const qb_f32_act* act, float* out,
                       qb_thread_pool* pool, float* scratch);
/* Depthwise conv of one image over all channels (no bias): the best backend's
 * f32_dwconv2d entry, threaded over channels on pool (NULL: the caller). */
void qb_f32_dwconv(const qb_conv2d_shape* s, const float* image, const float* w, float* out,
                   qb_thread_pool* pool);

#endif
