/* ONNX export of a model (fp32) and of its quantization (QDQ). See
 * qb_model_export.h for what is written. */
#include "qb_model_export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_quant_internal.h"
#include "qb_onnx_builder.h"

#define EXPORT_OPSET 17

static void write_spatial(qb_onnx_node* o, const qb_node* n, bool dilations) {
  qb_onnx_node_attr_ints(o, "kernel_shape", 2, n->a.kernel);
  qb_onnx_node_attr_ints(o, "strides", 2, n->a.strides);
  if (dilations) qb_onnx_node_attr_ints(o, "dilations", 2, n->a.dilations);
  /* auto_pad was resolved into explicit pads at prepare. */
  qb_onnx_node_attr_ints(o, "pads", 4, n->a.pads);
}

static void write_attrs(qb_onnx_node* o, const qb_node* n) {
  switch (n->op) {
    case QB_OP_GEMM:
      qb_onnx_node_attr_float(o, "alpha", n->a.alpha);
      qb_onnx_node_attr_float(o, "beta", n->a.beta);
      qb_onnx_node_attr_int(o, "transA", n->a.trans_a);
      qb_onnx_node_attr_int(o, "transB", n->a.trans_b);
      break;
    case QB_OP_CONV:
      qb_onnx_node_attr_int(o, "group", n->a.group);
      write_spatial(o, n, true);
      break;
    case QB_OP_MAXPOOL:
      write_spatial(o, n, true);
      qb_onnx_node_attr_int(o, "ceil_mode", n->a.ceil_mode);
      break;
    case QB_OP_AVGPOOL:
      write_spatial(o, n, false);
      qb_onnx_node_attr_int(o, "ceil_mode", n->a.ceil_mode);
      qb_onnx_node_attr_int(o, "count_include_pad", n->a.count_include_pad);
      break;
    case QB_OP_BATCHNORM: qb_onnx_node_attr_float(o, "epsilon", n->a.epsilon); break;
    case QB_OP_HARDSIGMOID:
      qb_onnx_node_attr_float(o, "alpha", n->a.alpha);
      qb_onnx_node_attr_float(o, "beta", n->a.beta);
      break;
    case QB_OP_SOFTMAX: case QB_OP_FLATTEN: case QB_OP_CONCAT: case QB_OP_QUANTIZE:
    case QB_OP_DEQUANTIZE:
      qb_onnx_node_attr_int(o, "axis", n->a.axis);
      break;
    case QB_OP_LAYERNORM:
      qb_onnx_node_attr_int(o, "axis", n->a.axis);
      qb_onnx_node_attr_float(o, "epsilon", n->a.epsilon);
      break;
    case QB_OP_TRANSPOSE:
      if (n->a.nperm) qb_onnx_node_attr_ints(o, "perm", (size_t)n->a.nperm, n->a.perm);
      break;
    case QB_OP_REDUCEMEAN:
      if (n->a.naxes) qb_onnx_node_attr_ints(o, "axes", (size_t)n->a.naxes, n->a.axes);
      qb_onnx_node_attr_int(o, "keepdims", n->a.keepdims);
      break;
    case QB_OP_RESHAPE: qb_onnx_node_attr_int(o, "allowzero", n->a.allowzero); break;
    case QB_OP_GATHER: qb_onnx_node_attr_int(o, "axis", n->a.axis); break;
    case QB_OP_CAST: qb_onnx_node_attr_int(o, "to", n->a.to); break;
    case QB_OP_CONVTRANSPOSE:
      qb_onnx_node_attr_int(o, "group", n->a.group);
      write_spatial(o, n, true); /* output_shape / auto_pad resolved into pads at prepare */
      qb_onnx_node_attr_ints(o, "output_padding", 2, n->a.output_padding);
      break;
    case QB_OP_RESIZE: {
      qb_onnx_node_attr_string(o, "mode", n->a.resize_mode ? "linear" : "nearest");
      qb_onnx_node_attr_string(o, "coordinate_transformation_mode", qb_resize_coord_names[n->a.coord_mode]);
      qb_onnx_node_attr_string(o, "nearest_mode", qb_resize_nearest_names[n->a.nearest_mode]);
      break;
    }
    default: break;
  }
}

static void scalar_init(qb_onnx_builder* b, const char* name, qb_dtype t, double v) {
  qb_tensor s;
  if (qb_tensor_alloc(&s, t, 0, NULL, NULL)) return;
  switch (t) {
    case QB_F32: *(float*)s.data = (float)v; break;
    case QB_U8: *(uint8_t*)s.data = (uint8_t)v; break;
    case QB_I8: *(int8_t*)s.data = (int8_t)v; break;
    default: *(int64_t*)s.data = (int64_t)v; break;
  }
  qb_onnx_builder_initializer(b, name, &s);
  qb_tensor_free(&s);
}

/* Per-export bookkeeping: names substituted for values. */
typedef struct {
  qb_onnx_builder* b;
  const qb_model* m;
  const qb_quant_state* q;   /* NULL: fp32 export */
  char** alias;              /* per value: name to read it by (NULL: its own) */
  char** in_dq;              /* per value: its QDQ'd copy feeding quantized layers */
  bool* on_grid;             /* per value: output of a quantized layer (already QDQ'd) */
  bool* skip_const;          /* per value: constant replaced by a quantized one */
} exporter;

static const char* name_of(const exporter* e, int v) {
  if (v < 0) return "";
  return e->alias[v] ? e->alias[v] : e->m->values[v].name;
}

static int set_alias(exporter* e, int v, const char* name, qb_error* err) {
  free(e->alias[v]);
  if (!(e->alias[v] = strdup(name))) return qb_fail(err, "out of memory");
  return 0;
}

/* x -> QuantizeLinear -> DequantizeLinear with value v's calibrated qparams;
 * consumers read <v>.dq afterwards. `from` is the name holding the float values.
 *
 * Below 8 bits the grid is narrower than QuantizeLinear's uint8/int8 output: a
 * Clip to [(qmin - zp) * scale, (qmax - zp) * scale] after DequantizeLinear puts the
 * value back on the b-bit grid. Exact: clamping commutes with the monotone
 * q -> (q - zp) * scale, and the limits are that same float product DequantizeLinear
 * computes for q = qmin / qmax, so the file gives the simulation's values. */
static int emit_qdq(exporter* e, int v, const char* from, const char* to, qb_error* err) {
  const qb_qparams p = e->q->act_qp[v];
  const qb_qscheme* s = &e->q->cfg.act.scheme;
  const char* vn = e->m->values[v].name;
  const bool narrow = s->bits < 8;
  char sc[300], zp[300], qn[300], qv[300], dqn[300], dqv[300];
  snprintf(sc, sizeof sc, "%.200s.scale", vn), snprintf(zp, sizeof zp, "%.200s.zero_point", vn);
  snprintf(qn, sizeof qn, "%.200s.quantize", vn), snprintf(qv, sizeof qv, "%.200s.q", vn);
  snprintf(dqn, sizeof dqn, "%.200s.dequantize", vn);
  snprintf(dqv, sizeof dqv, "%.200s.dq_8bit", vn);
  scalar_init(e->b, sc, QB_F32, p.scale);
  scalar_init(e->b, zp, s->is_signed ? QB_I8 : QB_U8, p.zero_point);
  qb_onnx_builder_node(e->b, "QuantizeLinear", qn, 3, (const char*[]){from, sc, zp}, 1, (const char*[]){qv});
  qb_onnx_builder_node(e->b, "DequantizeLinear", dqn, 3, (const char*[]){qv, sc, zp}, 1,
                       (const char*[]){narrow ? dqv : to});
  if (narrow) {
    char lo[300], hi[300], cn[300];
    float vlo, vhi;
    qb_qparams_representable(s, p, &vlo, &vhi);
    snprintf(lo, sizeof lo, "%.200s.grid_min", vn), snprintf(hi, sizeof hi, "%.200s.grid_max", vn);
    snprintf(cn, sizeof cn, "%.200s.clip_to_grid", vn);
    scalar_init(e->b, lo, QB_F32, vlo);
    scalar_init(e->b, hi, QB_F32, vhi);
    qb_onnx_builder_node(e->b, "Clip", cn, 3, (const char*[]){dqv, lo, hi}, 1, (const char*[]){to});
  }
  (void)err;
  return 0;
}

/* The quantized weight of layer k: integer initializer + DequantizeLinear. */
static int emit_weight(exporter* e, size_t k, const qb_qlayer* L, qb_error* err) {
  const qb_node* n = &e->m->nodes[k];
  const qb_value* w = &e->m->values[n->in[1]];
  const qb_tensor_qspec* ws = &e->q->cfg.weight;
  const bool per_channel = L->wq.layout.nunits > 1;
  const qb_dtype qt = ws->scheme.is_signed ? QB_I8 : QB_U8;
  qb_tensor wq = {0}, sc = {0}, zp = {0};
  const size_t nunits = per_channel ? L->N : 1;
  if (qb_tensor_alloc(&wq, qt, w->constant.ndim, w->constant.dims, err) ||
      qb_tensor_alloc(&sc, QB_F32, per_channel ? 1 : 0, (size_t[]){nunits}, err) ||
      qb_tensor_alloc(&zp, qt, per_channel ? 1 : 0, (size_t[]){nunits}, err)) {
    qb_tensor_free(&wq), qb_tensor_free(&sc), qb_tensor_free(&zp);
    return -1;
  }
  for (size_t r = 0; r < L->N; r++)
    for (size_t c = 0; c < L->K; c++) {
      const size_t dst = qb_qlayer_w_index(L, r, c);
      const int32_t v = L->wq.q[r * L->K + c];
      if (qt == QB_I8) ((int8_t*)wq.data)[dst] = (int8_t)v;
      else ((uint8_t*)wq.data)[dst] = (uint8_t)v;
    }
  for (size_t u = 0; u < nunits; u++) {
    ((float*)sc.data)[u] = L->wq.params[u].scale;
    if (qt == QB_I8) ((int8_t*)zp.data)[u] = (int8_t)L->wq.params[u].zero_point;
    else ((uint8_t*)zp.data)[u] = (uint8_t)L->wq.params[u].zero_point;
  }
  char qn[300], sn[300], zn[300], dn[300], nn[300];
  snprintf(qn, sizeof qn, "%.200s.quantized", w->name), snprintf(sn, sizeof sn, "%.200s.scale", w->name);
  snprintf(zn, sizeof zn, "%.200s.zero_point", w->name), snprintf(dn, sizeof dn, "%.200s.dq", w->name);
  snprintf(nn, sizeof nn, "%.200s.weight_dequantize", n->name);
  qb_onnx_builder_initializer(e->b, qn, &wq);
  qb_onnx_builder_initializer(e->b, sn, &sc);
  qb_onnx_builder_initializer(e->b, zn, &zp);
  qb_tensor_free(&wq), qb_tensor_free(&sc), qb_tensor_free(&zp);
  qb_onnx_node* o = qb_onnx_builder_node(e->b, "DequantizeLinear", nn, 3, (const char*[]){qn, sn, zn},
                                         1, (const char*[]){dn});
  if (per_channel) qb_onnx_node_attr_int(o, "axis", L->b_is_kn || L->kind == QB_QLAYER_CONVT ? 1 : 0);
  return set_alias(e, n->in[1], dn, err);
}

int qb_model_export_qdq_check(const qb_qconfig* c, qb_error* err) {
  if (c->workflow == QB_WORKFLOW_DYNAMIC)
    return qb_fail(err, "QDQ export: dynamic quantization has no fixed activation qparams "
                   "(export weight-only or static)");
  if (c->weight.granularity.kind == QB_PER_GROUP)
    return qb_fail(err, "QDQ export: per-group weights need blocked DequantizeLinear (opset 21)");
  if (c->weight.scheme.bits > 8 || (c->workflow == QB_WORKFLOW_STATIC && c->act.scheme.bits > 8))
    return qb_fail(err, "QDQ export: 16-bit tensors need opset 21");
  if (c->workflow == QB_WORKFLOW_STATIC && c->act.scheme.rounding == QB_ROUND_MUL_RECIP)
    return qb_fail(err, "QDQ export: QuantizeLinear rounds x/scale; the mul-recip rounding "
                   "cannot be expressed");
  return 0;
}

static int check_qdq_expressible(const qb_quant_state* q, qb_error* err) {
  const qb_qconfig* c = &q->cfg;
  if (qb_model_export_qdq_check(c, err)) return -1;
  if (c->workflow == QB_WORKFLOW_STATIC && !q->calibrated)
    return qb_fail(err, "QDQ export: calibrate first");
  return 0;
}

/* Static: the value whose QDQ follows node k in the fused pipeline (-1 for none): a
 * layer's output after the nodes folded into it (no QDQ between a Conv and its
 * Relu), and the outputs of the integer pools / Add / Concat. */
static int output_qdq_value(const exporter* e, size_t k) {
  const qb_quant_state* q = e->q;
  if (!q || q->cfg.workflow != QB_WORKFLOW_STATIC) return -1;
  const int owner = q->nodes[k].folded_into >= 0 ? q->nodes[k].folded_into : (int)k;
  const qb_qlayer* L = &q->layers[owner];
  if (L->kind != QB_QLAYER_NONE)
    return L->bias_fq && L->last_node == k ? L->out_value : -1;
  const qb_qnode_run r = q->run[k];
  return r == QB_QNODE_POOL || r == QB_QNODE_ADD || r == QB_QNODE_CONCAT ? e->m->nodes[k].out[0] : -1;
}

/* Static: does node k quantize its activation inputs (a layer's input 0; every input
 * of an integer Add / Concat / pool)? */
static bool quantizes_input(const exporter* e, size_t k, int i) {
  const qb_quant_state* q = e->q;
  if (!q || q->cfg.workflow != QB_WORKFLOW_STATIC) return false;
  const qb_qlayer* L = &q->layers[k];
  if (L->kind != QB_QLAYER_NONE) return i == 0 && L->bias_fq;
  const qb_qnode_run r = q->run[k];
  return r == QB_QNODE_POOL || r == QB_QNODE_ADD || r == QB_QNODE_CONCAT;
}

/* A folded bias Add reads the bias on the layer's int32 grid, as the simulation. */
static int emit_folded_bias(exporter* e, size_t k, qb_error* err) {
  const qb_node* n = &e->m->nodes[k];
  const int owner = e->q->nodes[k].folded_into;
  const qb_qlayer* L = &e->q->layers[owner];
  if (!L->bias_fq || L->bias_add_node != (int)k) return 0;
  const int c = e->m->values[n->in[0]].kind == QB_VALUE_CONST ? n->in[0] : n->in[1];
  char bn[300];
  snprintf(bn, sizeof bn, "%.200s.bias_on_int32_grid", n->name);
  qb_tensor bt;
  if (qb_tensor_alloc(&bt, QB_F32, e->m->values[c].ndim, e->m->values[c].dims, err)) return -1;
  memcpy(bt.data, L->bias_fq, L->N * sizeof(float));
  qb_onnx_builder_initializer(e->b, bn, &bt);
  qb_tensor_free(&bt);
  return set_alias(e, c, bn, err);
}

/* Node k, with QDQ around it where the integer pipeline quantizes. */
static int emit_node(exporter* e, size_t k, qb_error* err) {
  const qb_model* m = e->m;
  const qb_node* n = &m->nodes[k];
  const qb_qlayer* L = e->q ? &e->q->layers[k] : NULL;
  const bool quantized = L && L->kind != QB_QLAYER_NONE;
  const bool acts = quantized && e->q->cfg.workflow == QB_WORKFLOW_STATIC && L->bias_fq;
  char out_pre[300] = "";
  if (quantized && emit_weight(e, k, L, err)) return -1;
  for (int i = 0; i < n->nin; i++) {
    const int x = n->in[i];
    if (x < 0 || !quantizes_input(e, k, i) || e->on_grid[x] || e->in_dq[x]) continue;
    char dq[300];
    snprintf(dq, sizeof dq, "%.200s.dq", m->values[x].name);
    if (emit_qdq(e, x, name_of(e, x), dq, err)) return -1;
    if (!(e->in_dq[x] = strdup(dq))) return qb_fail(err, "out of memory");
  }
  if (acts && L->bias && n->nin > 2) {
    char bn[300];
    snprintf(bn, sizeof bn, "%.200s.bias_on_int32_grid", n->name);
    qb_tensor bt;
    if (qb_tensor_alloc(&bt, QB_F32, 1, (size_t[]){L->N}, err)) return -1;
    memcpy(bt.data, L->bias_fq, L->N * sizeof(float));
    qb_onnx_builder_initializer(e->b, bn, &bt);
    qb_tensor_free(&bt);
    if (set_alias(e, n->in[2], bn, err)) return -1;
  }
  if (e->q && e->q->nodes[k].folded_into >= 0 && emit_folded_bias(e, k, err)) return -1;
  const int qdq_out = output_qdq_value(e, k);
  if (qdq_out >= 0) snprintf(out_pre, sizeof out_pre, "%.200s.float", m->values[qdq_out].name);
  const char* ins[QB_NODE_MAX_INPUTS + 2];
  char lim[2][300];
  int nin = n->nin;
  for (int i = 0; i < nin; i++) ins[i] = name_of(e, n->in[i]);
  /* Only the quantizing node reads the QDQ copy. */
  for (int i = 0; i < nin; i++)
    if (n->in[i] >= 0 && quantizes_input(e, k, i) && e->in_dq[n->in[i]]) ins[i] = e->in_dq[n->in[i]];
  if (n->op == QB_OP_CLIP && nin == 1) { /* opset >= 11: limits are inputs */
    for (int i = 0; i < 2; i++) {
      const float v = i ? n->a.clip_max : n->a.clip_min;
      snprintf(lim[i], sizeof lim[i], "%.200s.%s", n->name, i ? "max" : "min");
      if (isinf(v)) lim[i][0] = 0;
      else scalar_init(e->b, lim[i], QB_F32, v);
      ins[1 + i] = lim[i];
    }
    nin = lim[1][0] ? 3 : (lim[0][0] ? 2 : 1);
  }
  if (n->op == QB_OP_REDUCEMEAN) nin = 1; /* opset-18 axes input: written as the attribute */
  const char* outs[QB_NODE_MAX_OUTPUTS];
  for (int o = 0; o < n->nout; o++) outs[o] = n->out[o] >= 0 ? m->values[n->out[o]].name : "";
  if (out_pre[0]) outs[0] = out_pre;
  qb_onnx_node* o = qb_onnx_builder_node(e->b, qb_op_name(n->op), n->name, (size_t)nin, ins,
                                         (size_t)n->nout, outs);
  write_attrs(o, n);
  if (out_pre[0]) {
    /* The output enters the next integer node already on its grid. */
    if (emit_qdq(e, qdq_out, out_pre, m->values[qdq_out].name, err)) return -1;
    e->on_grid[qdq_out] = true;
  }
  /* Max and reshapes keep values on their input's grid. */
  if (e->q && e->q->run[k] == QB_QNODE_PASS && e->on_grid[n->in[0]]) e->on_grid[n->out[0]] = true;
  return 0;
}

static int export_graph(const qb_model* m, const qb_quant_state* q, const char* path, qb_error* err) {
  if (!m->prepared) return qb_fail(err, "export: prepare the model first (shapes are written)");
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    if (n->op == QB_OP_SOFTMAX && m->opset < 13) {
      const qb_value* x = &m->values[n->in[0]];
      const int64_t last = x->ndim - 1;
      if (n->a.axis != last && n->a.axis != -1)
        return qb_fail(err, "export: node '%s': Softmax before opset 13 flattens from its axis; "
                       "opset 17 cannot express it", n->name);
    }
  }
  exporter e = {qb_onnx_builder_new("qbench", EXPORT_OPSET), m, q, NULL, NULL, NULL, NULL};
  e.alias = calloc(m->nvalues ? m->nvalues : 1, sizeof *e.alias);
  e.in_dq = calloc(m->nvalues ? m->nvalues : 1, sizeof *e.in_dq);
  e.on_grid = calloc(m->nvalues ? m->nvalues : 1, sizeof *e.on_grid);
  e.skip_const = calloc(m->nvalues ? m->nvalues : 1, sizeof *e.skip_const);
  int rc = -1;
  if (!e.b || !e.alias || !e.skip_const || !e.in_dq || !e.on_grid) {
    qb_fail(err, "out of memory");
    goto done;
  }
  /* Symbolic dimensions after the batch are written with the sizes the model was
   * prepared for: shape subgraphs were evaluated for them (their results are
   * constants of the exported graph). */
  for (size_t i = 0; i < m->ninputs; i++) {
    const qb_value* v = &m->values[m->inputs[i]];
    int64_t dims[QB_MAX_DIMS];
    for (int d = 0; d < v->ndecl; d++)
      dims[d] = v->decl[d] >= 0 || d == 0 ? v->decl[d] : (int64_t)v->given[d];
    qb_onnx_builder_input(e.b, v->name, QB_F32, v->ndecl, dims);
  }
  /* Constants only shape nodes read (evaluated at prepare) are not written. */
  for (size_t i = 0; i < m->nvalues; i++) e.skip_const[i] = m->values[i].kind == QB_VALUE_CONST;
  for (size_t k = 0; k < m->nnodes; k++)
    for (int i = 0; i < m->nodes[k].nin; i++)
      if (m->nodes[k].in[i] >= 0) e.skip_const[m->nodes[k].in[i]] = false;
  for (size_t i = 0; i < m->noutputs; i++) e.skip_const[m->outputs[i]] = false;
  /* Weights of quantized layers are replaced by their integer form. */
  if (q)
    for (size_t k = 0; k < m->nnodes; k++) {
      const qb_qlayer* L = &q->layers[k];
      if (L->kind == QB_QLAYER_NONE) continue;
      e.skip_const[m->nodes[k].in[1]] = true;
      /* A bias rewritten on the int32 grid (emit_node) replaces the float one. */
      if (q->cfg.workflow == QB_WORKFLOW_STATIC && L->bias_fq && L->bias && m->nodes[k].nin > 2)
        e.skip_const[m->nodes[k].in[2]] = true;
      if (q->cfg.workflow == QB_WORKFLOW_STATIC && L->bias_fq && L->bias_add_node >= 0) {
        const qb_node* a = &m->nodes[L->bias_add_node];
        e.skip_const[m->values[a->in[0]].kind == QB_VALUE_CONST ? a->in[0] : a->in[1]] = true;
      }
    }
  for (size_t i = 0; i < m->nvalues; i++) {
    const qb_value* v = &m->values[i];
    if (v->kind == QB_VALUE_CONST && !e.skip_const[i]) qb_onnx_builder_initializer(e.b, v->name, &v->constant);
  }
  for (size_t k = 0; k < m->nnodes; k++)
    if (emit_node(&e, k, err)) goto done;
  for (size_t i = 0; i < m->noutputs; i++) {
    const qb_value* v = &m->values[m->outputs[i]];
    int64_t dims[QB_MAX_DIMS];
    for (int d = 0; d < v->ndim; d++) dims[d] = d == 0 ? -1 : (int64_t)v->dims[d];
    qb_onnx_builder_output(e.b, v->name, QB_F32, v->ndim, dims);
  }
  if (m->meta_model[0]) qb_onnx_builder_metadata(e.b, "qbench.model", m->meta_model);
  if (m->meta_dataset[0]) qb_onnx_builder_metadata(e.b, "qbench.dataset", m->meta_dataset);
  if (m->meta_preprocess[0]) qb_onnx_builder_metadata(e.b, "qbench.preprocess", m->meta_preprocess);
  if (q) {
    char qs[400];
    qb_onnx_builder_metadata(e.b, "qbench.qconfig", qb_qconfig_str(&q->cfg, qs, sizeof qs));
  }
  rc = qb_onnx_builder_save(e.b, path, err);
done:
  for (size_t i = 0; i < m->nvalues; i++) {
    if (e.alias) free(e.alias[i]);
    if (e.in_dq) free(e.in_dq[i]);
  }
  free(e.alias), free(e.skip_const), free(e.in_dq), free(e.on_grid);
  qb_onnx_builder_free(e.b);
  return rc;
}

int qb_model_export_onnx(const qb_model* m, const char* path, qb_error* err) {
  return export_graph(m, NULL, path, err);
}

int qb_model_export_qdq(const qb_model* m, const qb_quant_state* q, const char* path,
                        qb_error* err) {
  if (check_qdq_expressible(q, err)) return -1;
  return export_graph(m, q, path, err);
}
