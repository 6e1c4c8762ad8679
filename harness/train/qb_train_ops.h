/* Forward and backward passes of the operators the reference models train with.
 *
 * The forward arithmetic is the model runtime's: GEMMs (dense, conv's im2col GEMM and
 * the backward products) run the fp32 GEMM microkernels of kernels/f32-gemm (through
 * qb_sgemm), depthwise conv the kernels/f32-dwconv kernel, softmax / layer norm / the
 * erf of GELU the row primitives of harness/ops/qb_f32_rows.h. A trained model is
 * evaluated with the arithmetic it was trained with, and the two share one copy.
 *
 * Plain functions on float arrays, batch-major (NCHW for images, [N, T, D] for token
 * sequences). Backward functions ACCUMULATE parameter gradients (dW += ...) so a
 * layer used twice or a split batch adds up, and OVERWRITE input gradients (dx = ...).
 * Every reduction runs in a fixed order (see qb_sgemm.h): same inputs, same bits.
 * Functions that allocate scratch return 0 or -1 (out of memory); others are void. */
#ifndef QB_TRAIN_OPS_H
#define QB_TRAIN_OPS_H

#include <stddef.h>
#include <stdint.h>

/* ---- dense: y[n,out] = x[n,in] W[out,in]^T + b[out] (b may be NULL) */
int qb_train_dense_forward(size_t n, size_t in, size_t out, const float* x, const float* W,
                     const float* b, float* y);
int qb_train_dense_backward(size_t n, size_t in, size_t out, const float* x, const float* W,
                      const float* dy, float* dx, float* dW, float* db);

/* ---- 2-D convolution, NCHW, weights [Cout, Cin/groups, kh, kw]. groups is 1
 * (im2col + GEMM) or Cin == Cout (depthwise, direct loops). */
typedef struct {
  size_t cin, h, w, cout, kh, kw, stride, pad, groups;
  size_t ho, wo; /* filled by qb_train_conv_shape */
} qb_train_conv_shape;
/* Computes ho, wo; returns -1 when the configuration is not supported. */
int qb_train_conv_shape_init(qb_train_conv_shape* s);
int qb_train_conv2d_forward(const qb_train_conv_shape* s, size_t n, const float* x, const float* W,
                      const float* b, float* y);
int qb_train_conv2d_backward(const qb_train_conv_shape* s, size_t n, const float* x, const float* W,
                       const float* dy, float* dx, float* dW, float* db);

/* ---- elementwise activations (count elements) */
void qb_train_relu_forward(size_t count, const float* x, float* y);
void qb_train_relu_backward(size_t count, const float* x, const float* dy, float* dx);
/* ReLU6 = clip(x, 0, 6); gradient 1 strictly inside (0, 6). */
void qb_train_relu6_forward(size_t count, const float* x, float* y);
void qb_train_relu6_backward(size_t count, const float* x, const float* dy, float* dx);
/* GELU, erf form: 0.5 x (1 + erf(x / sqrt 2)), erf as the runtime's Erf; y may be x. */
void qb_train_gelu_forward(size_t count, const float* x, float* y);
void qb_train_gelu_backward(size_t count, const float* x, const float* dy, float* dx);

/* ---- 2x2 max pool, stride 2 (floor), NCHW. argmax[n*C*ho*wo] records the winner
 * (first maximum in row-major window order) for the backward pass. */
void qb_train_maxpool2x2_forward(size_t n, size_t c, size_t h, size_t w, const float* x, float* y,
                           uint32_t* argmax);
void qb_train_maxpool2x2_backward(size_t n, size_t c, size_t h, size_t w, const uint32_t* argmax,
                            const float* dy, float* dx);

/* ---- global average pool: y[n,c] = mean over h*w */
void qb_train_gap_forward(size_t n, size_t c, size_t hw, const float* x, float* y);
void qb_train_gap_backward(size_t n, size_t c, size_t hw, const float* dy, float* dx);

/* ---- batch normalization over (n, h, w) per channel, NCHW.
 * Training: batch mean / biased variance normalize; running stats follow
 * running = (1 - momentum) running + momentum batch (variance unbiased, as PyTorch).
 * xhat[n*c*hw] and inv_std[c] are saved for the backward pass. */
int qb_train_batchnorm_train_forward(size_t n, size_t c, size_t hw, const float* x,
                               const float* gamma, const float* beta, float eps,
                               float momentum, float* running_mean, float* running_var,
                               float* y, float* xhat, float* inv_std);
void qb_train_batchnorm_eval_forward(size_t n, size_t c, size_t hw, const float* x,
                               const float* gamma, const float* beta, float eps,
                               const float* running_mean, const float* running_var, float* y);
void qb_train_batchnorm_backward(size_t n, size_t c, size_t hw, const float* gamma, const float* xhat,
                           const float* inv_std, const float* dy, float* dx, float* dgamma,
                           float* dbeta);

/* ---- layer normalization over the last dimension d of `rows` rows.
 * xhat[rows*d] and inv_std[rows] are saved for the backward pass. */
void qb_train_layernorm_forward(size_t rows, size_t d, const float* x, const float* gamma,
                          const float* beta, float eps, float* y, float* xhat, float* inv_std);
void qb_train_layernorm_backward(size_t rows, size_t d, const float* gamma, const float* xhat,
                           const float* inv_std, const float* dy, float* dx, float* dgamma,
                           float* dbeta);

/* ---- softmax over the last dimension (the runtime's Softmax row; x and y must not
 * overlap) */
void qb_train_softmax_forward(size_t rows, size_t d, const float* x, float* y);
void qb_train_softmax_backward(size_t rows, size_t d, const float* y, const float* dy, float* dx);

/* ---- multi-head scaled dot-product self-attention core, per sample:
 * q, k, v, o: [n, t, d] with `heads` heads of d/heads columns each;
 * o_h = softmax(q_h k_h^T / sqrt(d/heads)) v_h. probs[n, heads, t, t] is saved.
 * Forward returns 0, or -1 when out of memory. */
int qb_train_attention_forward(size_t n, size_t t, size_t d, size_t heads, const float* q,
                               const float* k, const float* v, float* o, float* probs);
int qb_train_attention_backward(size_t n, size_t t, size_t d, size_t heads, const float* q,
                           const float* k, const float* v, const float* probs, const float* dout,
                           float* dq, float* dk, float* dv);

/* ---- softmax cross-entropy, mean over the batch. Returns the loss; dlogits (may be
 * NULL) = (softmax - onehot) / n. */
float qb_train_softmax_xent(size_t n, size_t classes, const float* logits, const uint8_t* labels,
                      float* dlogits);

#endif /* QB_TRAIN_OPS_H */
