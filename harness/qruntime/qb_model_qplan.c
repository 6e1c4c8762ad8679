/* The shape of a quantized run: which nodes a static layer folds into its epilogue,
 * which values need calibrated qparams, and, at every run start, how each node runs
 * (qb_qnode_run) and which values travel as u8. Also the u8 storage of values and
 * the run's scratch buffers.
 *
 * Folding (static workflow, decided once at create from the graph): after a
 * quantized layer k, the consecutive nodes k+1.. may be folded when each consumes
 * the previous output as its only consumer (and that output is no graph output):
 *   1. Add of a constant bias [N] after a MatMul / Gemm without bias (MatMul + Add,
 *      as PyTorch exports Linear): it becomes the layer's int32 bias;
 *   2. Relu, or Clip with constant bounds: its bounds become the output clamp, and
 *      the layer's output value (the one calibrated, requantized to and handed on)
 *      is the activation's output, so the grid spans only what the activation lets
 *      through.
 * Consecutive nodes only: the layer writes the last folded node's output value at
 * node k, which is safe for the arena plan because nothing runs in between.
 *
 * The per-run plan follows the layers' current state (the numeric suite and mixed
 * runs switch layers to float between runs). It is the same for SIMULATED and
 * INTEGER runs, so the simulation fake-quantizes exactly where the integer run
 * rounds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_quant_internal.h"

static bool is_const(const qb_model* m, int v) {
  return v >= 0 && m->values[v].kind == QB_VALUE_CONST;
}

/* A constant Add input that is a bias along the last axis: N values, all other dims 1. */
static const float* bias_of_add(const qb_model* m, const qb_node* a, int from, size_t N) {
  if (a->op != QB_OP_ADD || a->nin != 2) return NULL;
  const int other = a->in[0] == from ? a->in[1] : a->in[0];
  if (a->in[0] != from && a->in[1] != from) return NULL;
  if (!is_const(m, other) || m->values[other].constant.dtype != QB_F32) return NULL;
  const qb_value* b = &m->values[other];
  if (b->numel != N || b->ndim < 1 || b->dims[b->ndim - 1] != N) return NULL;
  if (m->values[a->out[0]].numel != m->values[from].numel) return NULL;
  return b->data;
}

static int fold_layer(qb_quant_state* q, const qb_model* m, size_t k, qb_error* err) {
  qb_qlayer* L = &q->layers[k];
  int v = m->nodes[k].out[0];
  size_t j = k;
  int r = qb_value_sole_reader(m, v);
  const float* bias;
  if (L->kind == QB_QLAYER_GEMM && !L->bias && r == (int)j + 1 &&
      (bias = bias_of_add(m, &m->nodes[r], v, L->N))) {
    L->bias = bias, L->bias_add_node = r;
    j = (size_t)r, v = m->nodes[r].out[0], r = qb_value_sole_reader(m, v);
  }
  if (r == (int)j + 1 && m->nodes[r].nin >= 1 && m->nodes[r].in[0] == v &&
      qb_node_clamp_bounds(m, &m->nodes[r], &L->act_lo, &L->act_hi)) {
    L->act_node = r;
    j = (size_t)r, v = m->nodes[r].out[0];
  }
  if (j == k) return 0;
  L->last_node = j, L->out_value = v;
  size_t len = 1;
  for (size_t i = k; i <= j; i++) len += strlen(m->nodes[i].name) + 1;
  if (!(L->name = malloc(len))) return qb_fail(err, "out of memory");
  L->name[0] = 0;
  for (size_t i = k; i <= j; i++) {
    if (i > k) strcat(L->name, "+");
    strcat(L->name, m->nodes[i].name);
    if (i > k) q->nodes[i].folded_into = (int)k;
  }
  return 0;
}

/* Ops that only move or select values (nearest Resize copies pixels). */
static bool moves_only(const qb_node* n) {
  switch (n->op) {
    case QB_OP_MAXPOOL: case QB_OP_FLATTEN: case QB_OP_RESHAPE: case QB_OP_TRANSPOSE:
    case QB_OP_IDENTITY: case QB_OP_SQUEEZE: case QB_OP_UNSQUEEZE:
      return true;
    case QB_OP_RESIZE:
      return n->a.resize_mode == 0;
    default:
      return false;
  }
}

/* Static: which values the calibration must observe. */
static void mark_needed(qb_quant_state* q, const qb_model* m) {
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    const qb_qlayer* L = &q->layers[k];
    if (q->nodes[k].folded_into >= 0) continue;
    if (L->kind != QB_QLAYER_NONE) {
      q->stats[L->in_value].needed = q->stats[L->out_value].needed = true;
      continue;
    }
    switch (n->op) {
      case QB_OP_ADD: case QB_OP_CONCAT: {
        bool all = true;
        for (int i = 0; i < n->nin; i++) all &= n->in[i] >= 0 && !is_const(m, n->in[i]);
        if (!all) break;
        for (int i = 0; i < n->nin; i++) q->stats[n->in[i]].needed = true;
        q->stats[n->out[0]].needed = true;
        break;
      }
      case QB_OP_AVGPOOL: case QB_OP_GLOBALAVGPOOL:
        q->stats[n->out[0]].needed = true;
        break;
      default:
        break;
    }
  }
}

int qb_qplan_create(qb_quant_state* q, const qb_model* m, qb_error* err) {
  const size_t nn = m->nnodes ? m->nnodes : 1, nv = m->nvalues ? m->nvalues : 1;
  q->nodes = calloc(nn, sizeof *q->nodes);
  q->run = calloc(nn, sizeof *q->run);
  q->value_const = calloc(nv, sizeof *q->value_const);
  q->value_int = calloc(nv, sizeof *q->value_int);
  q->u8 = calloc(nv, sizeof *q->u8);
  q->u8_cap = calloc(nv, sizeof *q->u8_cap);
  q->has_u8 = calloc(nv, sizeof *q->has_u8);
  q->has_f32 = calloc(nv, sizeof *q->has_f32);
  if (!q->nodes || !q->run || !q->value_const || !q->value_int || !q->u8 || !q->u8_cap ||
      !q->has_u8 || !q->has_f32)
    return qb_fail(err, "out of memory");
  for (size_t v = 0; v < m->nvalues; v++) q->value_const[v] = m->values[v].kind == QB_VALUE_CONST;
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    qb_qnode* qn = &q->nodes[k];
    qn->op = n->op, qn->nin = n->nin, qn->out = n->out[0], qn->folded_into = -1;
    memcpy(qn->in, n->in, sizeof qn->in);
    qn->moves_only = moves_only(n);
    qn->same_shapes = true;
    for (int i = 0; i < n->nin; i++)
      qn->same_shapes &= n->in[i] < 0 || m->values[n->in[i]].numel == m->values[n->out[0]].numel;
  }
  if (q->cfg.workflow != QB_WORKFLOW_STATIC) return 0;
  for (size_t k = 0; k < m->nnodes; k++)
    if (q->layers[k].kind != QB_QLAYER_NONE && fold_layer(q, m, k, err)) return -1;
  mark_needed(q, m);
  return 0;
}

void qb_qplan_free(qb_quant_state* q) {
  for (size_t v = 0; q->u8 && v < q->nvalues; v++) free(q->u8[v]);
  for (int i = 0; i < QB_SCR_COUNT; i++) free(q->scratch[i]);
  free(q->nodes), free(q->run), free(q->value_const), free(q->value_int);
  free(q->u8), free(q->u8_cap), free(q->has_u8), free(q->has_f32);
}

/* Pass-through nodes hand on their input's grid (max, reshapes, nearest Resize: no
 * new values). */
void qb_qplan_propagate_qparams(qb_quant_state* q) {
  for (size_t k = 0; k < q->nnodes; k++) {
    const qb_qnode* n = &q->nodes[k];
    if (!n->moves_only || n->in[0] < 0 || !q->act_has[n->in[0]]) continue;
    q->act_qp[n->out] = q->act_qp[n->in[0]];
    q->act_has[n->out] = true;
  }
}

/* Add / Concat on integers: every input has qparams, at least one is already u8. */
static bool merge_is_integer(const qb_quant_state* q, const qb_qnode* n) {
  bool any = false;
  for (int i = 0; i < n->nin; i++) {
    const int v = n->in[i];
    if (v < 0 || q->value_const[v] || !q->act_has[v]) return false;
    any |= q->value_int[v];
  }
  return any && q->act_has[n->out];
}

static qb_qnode_run plan_node(const qb_quant_state* q, size_t k) {
  const qb_qnode* n = &q->nodes[k];
  const qb_qlayer* L = &q->layers[k];
  const bool static_q = q->cfg.workflow == QB_WORKFLOW_STATIC;
  if (n->folded_into >= 0 && q->layers[n->folded_into].kind != QB_QLAYER_NONE)
    return QB_QNODE_FOLDED;
  if (L->kind != QB_QLAYER_NONE)
    return static_q && L->path == QB_QPATH_Q8 && L->bias_q ? QB_QNODE_LAYER_Q8 : QB_QNODE_LAYER_F32;
  if (!static_q) return QB_QNODE_FLOAT;
  const bool int_in = n->in[0] >= 0 && q->value_int[n->in[0]];
  switch (n->op) {
    case QB_OP_MAXPOOL: case QB_OP_FLATTEN: case QB_OP_RESHAPE: case QB_OP_TRANSPOSE:
    case QB_OP_IDENTITY: case QB_OP_SQUEEZE: case QB_OP_UNSQUEEZE: case QB_OP_RESIZE:
      return int_in && q->act_has[n->out] && n->moves_only ? QB_QNODE_PASS : QB_QNODE_FLOAT;
    case QB_OP_AVGPOOL: case QB_OP_GLOBALAVGPOOL:
      return int_in && q->act_has[n->out] ? QB_QNODE_POOL : QB_QNODE_FLOAT;
    case QB_OP_ADD:
      /* Same shapes only (no broadcasting on integers). */
      return n->nin == 2 && n->same_shapes && merge_is_integer(q, n) ? QB_QNODE_ADD
                                                                     : QB_QNODE_FLOAT;
    case QB_OP_CONCAT:
      return merge_is_integer(q, n) ? QB_QNODE_CONCAT : QB_QNODE_FLOAT;
    default:
      return QB_QNODE_FLOAT;
  }
}

void qb_qplan_run(qb_quant_state* q) {
  memset(q->value_int, 0, q->nvalues * sizeof *q->value_int);
  for (size_t k = 0; k < q->nnodes; k++) {
    q->run[k] = plan_node(q, k);
    switch (q->run[k]) {
      case QB_QNODE_LAYER_Q8: q->value_int[q->layers[k].out_value] = true; break;
      case QB_QNODE_PASS: case QB_QNODE_POOL: case QB_QNODE_ADD: case QB_QNODE_CONCAT:
        q->value_int[q->nodes[k].out] = true;
        break;
      default: break;
    }
  }
}

/* ------------------------------------------------------------ storage */

void* qb_quant_scratch(qb_quant_state* q, int slot, size_t bytes, qb_error* err) {
  if (bytes == 0) bytes = 1;
  if (q->scratch_cap[slot] < bytes) {
    void* p = realloc(q->scratch[slot], bytes);
    if (!p) {
      qb_fail(err, "out of memory (%zu bytes of integer-run scratch)", bytes);
      return NULL;
    }
    q->scratch[slot] = p, q->scratch_cap[slot] = bytes;
  }
  return q->scratch[slot];
}

uint8_t* qb_quant_value_u8_out(qb_quant_state* q, const qb_model* m, int v, qb_error* err) {
  const size_t n = m->values[v].numel ? m->values[v].numel : 1;
  if (q->u8_cap[v] < n) {
    uint8_t* p = realloc(q->u8[v], n);
    if (!p) {
      qb_fail(err, "out of memory (u8 form of '%.200s')", m->values[v].name);
      return NULL;
    }
    q->u8[v] = p, q->u8_cap[v] = n;
  }
  q->has_u8[v] = true, q->has_f32[v] = false;
  return q->u8[v];
}

/* All of x finite? Exponent bits all ones = Inf / NaN; an OR over the words, which
 * the compiler vectorizes (isfinite per element with an early exit does not). */
static bool all_finite(const float* x, size_t n) {
  uint32_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &x[i], sizeof u);
    bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
  }
  return !bad;
}

const uint8_t* qb_quant_value_u8(qb_quant_state* q, const qb_model* m, int v, qb_error* err) {
  if (q->has_u8[v]) return q->u8[v];
  const qb_value* val = &m->values[v];
  if (!q->act_has[v]) {
    qb_fail(err, "'%.200s' has no activation qparams: it cannot be quantized", val->name);
    return NULL;
  }
  if (!all_finite(val->data, val->numel)) {
    qb_fail(err, "'%.200s' holds non-finite values: it cannot be quantized", val->name);
    return NULL;
  }
  uint8_t* y = qb_quant_value_u8_out(q, m, v, err);
  if (!y) return NULL;
  const qb_qscheme* s = &q->cfg.act.scheme;
  const qb_qparams p = q->act_qp[v];
  q->table->f32_q8_quantize->f32_qu8(val->numel, val->data, p.scale, p.zero_point,
                                     qb_qscheme_qmin(s), qb_qscheme_qmax(s), s->rounding, y);
  q->has_f32[v] = true; /* both forms are current */
  return y;
}

void qb_quant_value_f32(qb_quant_state* q, const qb_model* m, int v) {
  if (v < 0 || q->has_f32[v] || !q->has_u8[v]) return;
  const qb_value* val = &m->values[v];
  const qb_qparams p = q->act_qp[v];
  q->table->q8_f32_dequantize->qu8_f32(val->numel, q->u8[v], p.scale, p.zero_point, val->data);
  q->has_f32[v] = true;
}
