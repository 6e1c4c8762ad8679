/* Shape inference for a batch size, liveness, arena planning, and the fp32
 * dispatch of one node. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_internal.h"

const char* qb_node_str(const qb_node* n, char* buf, size_t len) {
  snprintf(buf, len, "node '%.200s' (%s)", n->name, qb_op_name(n->op));
  return buf;
}

int qb_value_set_shape(qb_value* v, int ndim, const size_t* dims, const qb_node* n, qb_error* err) {
  if (ndim > QB_MAX_DIMS) {
    char where[320];
    return qb_fail(err, "%s: output has %d dimensions; at most %d are supported",
                   qb_node_str(n, where, sizeof where), ndim, QB_MAX_DIMS);
  }
  size_t numel = 1;
  for (int i = 0; i < ndim; i++) {
    if (dims[i] && numel > (size_t)QB_MODEL_MAX_ELEMENTS / dims[i]) {
      char where[320];
      return qb_fail(err, "%s: output '%.200s' would have more than 2^31 elements",
                     qb_node_str(n, where, sizeof where), v->name);
    }
    numel *= dims[i];
  }
  v->ndim = ndim;
  memset(v->dims, 0, sizeof v->dims);
  if (ndim) memcpy(v->dims, dims, (size_t)ndim * sizeof *dims);
  v->numel = numel;
  return 0;
}

/* Which inputs of an op are integer parameters rather than float data. */
static bool is_int_param(qb_op op, int i) {
  return ((op == QB_OP_RESHAPE || op == QB_OP_SQUEEZE || op == QB_OP_UNSQUEEZE ||
           op == QB_OP_GATHER || op == QB_OP_REDUCEMEAN) && i == 1) ||
         ((op == QB_OP_SLICE || op == QB_OP_RESIZE) && i >= 1);
}

/* Integer constants read as data (exact as floats up to 2^24). */
static bool is_int_data(qb_op op, int i) {
  return (op == QB_OP_DEQUANTIZE && (i == 0 || i == 2)) || (op == QB_OP_QUANTIZE && i == 2);
}

bool qb_model_params_unbound(const qb_model* m) {
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    for (int i = 0; i < n->nin; i++)
      if (n->in[i] >= 0 && m->values[n->in[i]].kind == QB_VALUE_INPUT &&
          (is_int_param(n->op, i) || n->op == QB_OP_RANGE))
        return true;
  }
  return false;
}

int qb_op_infer(qb_model* m, qb_node* n, qb_error* err) {
  for (int i = 0; i < n->nin; i++) {
    const qb_value* v = qb_in(m, n, i);
    if (!v || is_int_param(n->op, i) || is_int_data(n->op, i)) continue;
    if (v->kind == QB_VALUE_CONST && v->constant.dtype != QB_F32) {
      char where[320];
      return qb_fail(err, "%s: input '%.200s' is an integer tensor; only float32 data is "
                     "supported here", qb_node_str(n, where, sizeof where), v->name);
    }
  }
  return qb_op_infer_shapes(m, n, err);
}

int qb_op_infer_shapes(qb_model* m, qb_node* n, qb_error* err) {
  int rc = qb_ops_nn_infer(m, n, err);
  if (rc == 1) rc = qb_ops_elementwise_infer(m, n, err);
  if (rc == 1) rc = qb_ops_shape_infer(m, n, err);
  if (rc == 1) rc = qb_ops_index_infer(m, n, err);
  if (rc == 1) rc = qb_ops_upsample_infer(m, n, err);
  if (rc == 1) {
    char where[320];
    rc = qb_fail(err, "%s: runs only at prepare, on shapes and constants (its inputs are not)",
                 qb_node_str(n, where, sizeof where));
  }
  return rc;
}

void qb_op_run_f32(const qb_model* m, const qb_node* n, const float* const* in) {
  if (!qb_ops_nn_run(m, n, in) && !qb_ops_elementwise_run(m, n, in) &&
      !qb_ops_shape_run(m, n, in) && !qb_ops_index_run(m, n, in))
    qb_ops_upsample_run(m, n, in);
}

/* ---------------------------------------------------------------- shapes */

static int input_shapes(qb_model* m, size_t batch, qb_error* err) {
  for (size_t i = 0; i < m->nvalues; i++) {
    qb_value* v = &m->values[i];
    if (v->kind == QB_VALUE_CONST) {
      if (!v->computed && qb_value_const_view(v, err)) return -1;
      continue;
    }
    if (v->kind != QB_VALUE_INPUT) continue;
    if (v->int64_input)
      return qb_fail(err, "graph input '%.200s' is an integer tensor: bind it to a constant "
                     "(qb_model_bind_constant) before running", v->name);
    if (v->ndecl < 0) return qb_fail(err, "graph input '%.200s' has no declared shape", v->name);
    size_t dims[QB_MAX_DIMS];
    for (int d = 0; d < v->ndecl; d++) {
      dims[d] = v->decl[d] >= 0 ? (size_t)v->decl[d] : d == 0 ? batch : v->given[d];
      if (v->decl[d] < 0 && !dims[d])
        return qb_fail(err, "graph input '%.200s': dimension %d is symbolic; give the input "
                       "shape (the data's sample shape, qb_model_set_input_shape)", v->name, d);
    }
    qb_node fake = {.name = v->name, .op = QB_OP_IDENTITY};
    if (qb_value_set_shape(v, v->ndecl, dims, &fake, err)) return -1;
  }
  return 0;
}

int qb_value_const_view(qb_value* v, qb_error* err) {
  v->ndim = v->constant.ndim;
  memcpy(v->dims, v->constant.dims, sizeof v->dims);
  v->numel = qb_tensor_numel(&v->constant);
  v->data = v->constant.dtype == QB_F32 ? v->constant.data : NULL;
  if (v->constant.dtype == QB_I64) {
    free(v->int_as_f32);
    if (!(v->int_as_f32 = malloc((v->numel ? v->numel : 1) * sizeof(float))))
      return qb_fail(err, "out of memory");
    for (size_t k = 0; k < v->numel; k++) v->int_as_f32[k] = (float)((const int64_t*)v->constant.data)[k];
    v->data = v->int_as_f32;
  }
  return 0;
}

bool qb_model_needs_input_shape(const qb_model* m) {
  for (size_t i = 0; i < m->ninputs; i++) {
    const qb_value* v = &m->values[m->inputs[i]];
    for (int d = 1; d < v->ndecl && !v->int64_input; d++)
      if (v->decl[d] < 0 && !v->given[d]) return true;
  }
  return false;
}

int qb_model_set_input_shape(qb_model* m, size_t i, int ndim, const size_t* dims, qb_error* err) {
  if (i >= m->ninputs) return qb_fail(err, "the model has %zu inputs, not %zu", m->ninputs, i + 1);
  qb_value* v = &m->values[m->inputs[i]];
  if (ndim != v->ndecl)
    return qb_fail(err, "graph input '%.200s' has %d dimensions; %d given", v->name, v->ndecl, ndim);
  for (int d = 1; d < ndim; d++) {
    if (v->decl[d] >= 0 && (size_t)v->decl[d] != dims[d])
      return qb_fail(err, "graph input '%.200s': dimension %d is %lld; %zu given", v->name, d,
                     (long long)v->decl[d], dims[d]);
    if (dims[d] == 0 || dims[d] > (size_t)QB_MODEL_MAX_ELEMENTS)
      return qb_fail(err, "graph input '%.200s': dimension %d of %zu is out of range", v->name, d, dims[d]);
  }
  for (int d = 1; d < ndim; d++) v->given[d] = v->decl[d] < 0 ? dims[d] : 0;
  m->prepared = false;
  return 0;
}

int qb_model_fit_input(qb_model* m, int sample_ndim, const size_t* sample_dims, qb_error* err) {
  if (m->ninputs != 1) return qb_fail(err, "the model has %zu inputs; evaluation feeds one", m->ninputs);
  const qb_value* v = &m->values[m->inputs[0]];
  bool symbolic = false;
  for (int d = 1; d < v->ndecl; d++) symbolic |= v->decl[d] < 0;
  if (!symbolic) return 0; /* data of another shape but the same size stays allowed */
  if (sample_ndim + 1 != v->ndecl || sample_ndim + 1 > QB_MAX_DIMS)
    return qb_fail(err, "model input '%.200s' has %d dimensions (batch first); a data sample has %d",
                   v->name, v->ndecl, sample_ndim);
  size_t dims[QB_MAX_DIMS] = {1};
  memcpy(dims + 1, sample_dims, (size_t)sample_ndim * sizeof *dims);
  return qb_model_set_input_shape(m, 0, v->ndecl, dims, err);
}

/* --------------------------------------------------------------- arena */

typedef struct {
  int value;
  int start, end; /* node interval, inclusive */
  size_t bytes;
} interval;

static int by_size_desc(const void* a, const void* b) {
  const interval *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  return x->value - y->value;
}

/* Greedy by size (largest first), each value at the lowest offset that does not
 * overlap a placed value alive at the same time: the TFLite "greedy by size"
 * planner. Returns the peak. */
static size_t plan_arena(qb_model* m, interval* iv, size_t n) {
  qsort(iv, n, sizeof *iv, by_size_desc);
  size_t peak = 0;
  for (size_t i = 0; i < n; i++) {
    size_t offset = 0;
    bool moved = true;
    while (moved) { /* slide past every conflicting placed block */
      moved = false;
      for (size_t j = 0; j < i; j++) {
        if (iv[j].end < iv[i].start || iv[i].end < iv[j].start) continue;
        const size_t o = m->values[iv[j].value].offset;
        if (offset < o + iv[j].bytes && o < offset + iv[i].bytes) {
          offset = o + iv[j].bytes;
          moved = true;
        }
      }
    }
    m->values[iv[i].value].offset = offset;
    if (offset + iv[i].bytes > peak) peak = offset + iv[i].bytes;
  }
  return peak;
}

int qb_value_sole_reader(const qb_model* m, int v) {
  if (v < 0 || m->values[v].is_output) return -1;
  int reader = -1;
  for (size_t k = 0; k < m->nnodes; k++)
    for (int i = 0; i < m->nodes[k].nin; i++)
      if (m->nodes[k].in[i] == v) {
        if (reader >= 0) return -1; /* a second slot, of this node or another */
        reader = (int)k;
      }
  return reader;
}

bool qb_node_clamp_bounds(const qb_model* m, const qb_node* a, float* lo, float* hi) {
  if (a->op == QB_OP_RELU) {
    *lo = 0.0f, *hi = INFINITY;
    return true;
  }
  if (a->op != QB_OP_CLIP) return false;
  *lo = a->a.clip_min, *hi = a->a.clip_max;
  for (int i = 1; i < 3; i++) {
    const qb_value* v = qb_in(m, a, i);
    if (!v) continue;
    if (v->kind != QB_VALUE_CONST || !v->data || v->numel != 1) return false;
    *(i == 1 ? lo : hi) = v->data[0];
  }
  return !isnan(*lo) && !isnan(*hi) && *lo <= *hi;
}

/* Marks the fp32 run's fusable pairs (qb_node.f32_fuse_act): Conv / Gemm node k whose
 * output's sole reader is node k + 1, a Relu or a Clip of it with constant bounds.
 * Consecutive nodes only: nothing runs between the two, so writing the activation's
 * output at node k is invisible to every other node. */
static void mark_fusion(qb_model* m) {
  for (size_t k = 0; k < m->nnodes; k++) {
    qb_node* n = &m->nodes[k];
    n->f32_fuse_act = false;
    if ((n->op != QB_OP_CONV && n->op != QB_OP_GEMM) || k + 1 == m->nnodes || n->out[0] < 0)
      continue;
    const qb_node* a = &m->nodes[k + 1];
    float lo, hi;
    n->f32_fuse_act = qb_value_sole_reader(m, n->out[0]) == (int)k + 1 && a->in[0] == n->out[0] &&
                      a->out[0] >= 0 && qb_node_clamp_bounds(m, a, &lo, &hi);
  }
}

static int plan(qb_model* m, qb_error* err) {
  for (size_t i = 0; i < m->nvalues; i++) {
    m->values[i].last_use = m->values[i].is_output ? (int)m->nnodes : -1;
    m->values[i].producer = -1;
  }
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    for (int i = 0; i < n->nin; i++)
      if (n->in[i] >= 0 && m->values[n->in[i]].last_use < (int)k) m->values[n->in[i]].last_use = (int)k;
    for (int o = 0; o < n->nout; o++)
      if (n->out[o] >= 0) m->values[n->out[o]].producer = (int)k;
  }
  interval* iv = calloc(m->nvalues ? m->nvalues : 1, sizeof *iv);
  if (!iv) return qb_fail(err, "out of memory");
  mark_fusion(m);
  size_t n = 0;
  m->naive_bytes = 0;
  for (size_t i = 0; i < m->nvalues; i++) {
    qb_value* v = &m->values[i];
    const bool planned = v->kind == QB_VALUE_INPUT || (v->kind == QB_VALUE_ACT && v->producer >= 0);
    if (!planned) continue;
    const size_t bytes = (v->numel * sizeof(float) + 63) / 64 * 64;
    const int end = v->last_use < v->producer ? v->producer : v->last_use;
    /* A fused activation's output is written while its Conv / Gemm runs: it lives
     * from that node on, so it never shares bytes with the Conv / Gemm's inputs
     * (which may die there). */
    const int start = v->producer > 0 && m->nodes[v->producer - 1].f32_fuse_act
                          ? v->producer - 1
                          : v->producer;
    iv[n++] = (interval){(int)i, start, end, bytes};
    m->naive_bytes += bytes;
  }
  m->arena_bytes = plan_arena(m, iv, n);
  free(m->arena);
  m->arena = NULL;
  if (m->arena_bytes > QB_MODEL_MAX_ARENA_BYTES) {
    free(iv);
    return qb_fail(err, "the activation arena would take %zu bytes, more than the limit of "
                   "%zu MiB (an input or intermediate shape is too large)",
                   m->arena_bytes, QB_MODEL_MAX_ARENA_BYTES >> 20);
  }
  /* Never a NULL arena, even when every activation is empty: value pointers are
   * arena + offset, and NULL + 0 is undefined. */
  if (!(m->arena = aligned_alloc(64, m->arena_bytes ? m->arena_bytes : 64))) {
    free(iv);
    return qb_fail(err, "out of memory allocating a %zu-byte activation arena", m->arena_bytes);
  }
  for (size_t i = 0; i < n; i++) {
    qb_value* v = &m->values[iv[i].value];
    v->data = (float*)((char*)m->arena + v->offset);
  }
  free(iv);
  return 0;
}

/* The fp32 ops' working memory (qb_model.op_scratch): ReduceMean's sums (one
 * double per output), Resize's index / weight tables. Gemm / MatMul / Conv pack into the fp32 GEMM path's own
 * scratch (qb_f32_runtime_prepare). */
static size_t op_scratch_bytes(const qb_model* m, const qb_node* n) {
  if (n->op == QB_OP_REDUCEMEAN) return m->values[n->out[0]].numel * sizeof(double);
  if (n->op == QB_OP_RESIZE) return qb_resize_scratch_bytes(m, n);
  return 0;
}

static int plan_op_scratch(qb_model* m, qb_error* err) {
  size_t need = sizeof(double);
  for (size_t k = 0; k < m->nnodes; k++) {
    const size_t b = op_scratch_bytes(m, &m->nodes[k]);
    need = b > need ? b : need;
  }
  if (need > QB_MODEL_MAX_ARENA_BYTES)
    return qb_fail(err, "operator scratch of %zu bytes (Conv im2col) exceeds the limit of %zu MiB",
                   need, QB_MODEL_MAX_ARENA_BYTES >> 20);
  if (need <= m->op_scratch_bytes) return 0;
  free(m->op_scratch);
  m->op_scratch_bytes = 0;
  if (!(m->op_scratch = malloc(need)))
    return qb_fail(err, "out of memory allocating %zu bytes of operator scratch", need);
  m->op_scratch_bytes = need;
  return 0;
}

int qb_model_prepare(qb_model* m, size_t batch, qb_error* err) {
  m->prepared = false;
  if (batch == 0 || batch > (size_t)1 << 24) return qb_fail(err, "batch %zu is out of range", batch);
  if (!m->partitioned && qb_model_partition_shape_nodes(m, err)) return -1;
  if (input_shapes(m, batch, err)) return -1;
  size_t s = 0;
  for (size_t k = 0; k <= m->nnodes; k++) {
    for (; s < m->nshape_nodes && m->shape_nodes[s].fold_at == k; s++)
      if (qb_model_fold_shape_node(m, &m->shape_nodes[s], err)) return -1;
    if (k < m->nnodes && qb_op_infer(m, &m->nodes[k], err)) return -1;
  }
  if (plan(m, err) || plan_op_scratch(m, err) || qb_f32_runtime_prepare(m, err)) return -1;
  m->batch = batch;
  m->prepared = true;
  return 0;
}

const qb_value* qb_model_output(const qb_model* m, size_t i) {
  return i < m->noutputs ? &m->values[m->outputs[i]] : NULL;
}
