/* ONNX model builder. See qb_onnx_builder.h.
 *
 * The model is assembled directly as protobuf-c messages, every part malloc'd, so
 * that protobuf_c_message_free_unpacked (with the default allocator, i.e. free)
 * releases the whole tree. A qb_onnx_node embeds its NodeProto as first member: the
 * graph's node array points at it and free_unpacked frees the whole allocation.
 *
 * The setters return void (the header's choice, to keep model-export code flat), so
 * an allocation failure is remembered and reported by qb_onnx_builder_save. */
#include "qb_onnx_builder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx.pb-c.h"

struct qb_onnx_node {
  Onnx__NodeProto proto; /* first member: freed through the graph's node array */
  qb_onnx_builder* owner;
};

struct qb_onnx_builder {
  Onnx__ModelProto* model;
  int out_of_memory; /* sticky: reported by save */
};

/* ------------------------------------------------------------- allocation */

static char* dup_str(qb_onnx_builder* b, const char* s) {
  char* d = strdup(s ? s : "");
  if (!d) b->out_of_memory = 1;
  return d;
}

/* Grows a pointer array by one slot; returns the new slot or NULL (oom flagged). */
static void** push_slot(qb_onnx_builder* b, void*** array, size_t* count) {
  void** grown = realloc(*array, (*count + 1) * sizeof **array);
  if (!grown) {
    b->out_of_memory = 1;
    return NULL;
  }
  *array = grown;
  grown[*count] = NULL;
  return &grown[(*count)++];
}

static void* alloc_msg(qb_onnx_builder* b, size_t size) {
  void* p = calloc(1, size);
  if (!p) b->out_of_memory = 1;
  return p;
}

/* --------------------------------------------------------------- the model */

qb_onnx_builder* qb_onnx_builder_new(const char* producer, int64_t opset) {
  qb_onnx_builder* b = calloc(1, sizeof *b);
  if (!b) return NULL;
  Onnx__ModelProto* m = alloc_msg(b, sizeof *m);
  Onnx__GraphProto* g = alloc_msg(b, sizeof *g);
  Onnx__OperatorSetIdProto* op = alloc_msg(b, sizeof *op);
  Onnx__OperatorSetIdProto** ops = alloc_msg(b, sizeof *ops);
  if (b->out_of_memory) {
    free(m), free(g), free(op), free(ops), free(b);
    return NULL;
  }
  onnx__model_proto__init(m);
  onnx__graph_proto__init(g);
  onnx__operator_set_id_proto__init(op);
  /* IR version 8 (ONNX 1.10+) is read by every current runtime and covers opset 17. */
  m->has_ir_version = 1;
  m->ir_version = ONNX__VERSION__IR_VERSION;
  m->producer_name = dup_str(b, producer);
  m->producer_version = dup_str(b, "0.1");
  op->domain = dup_str(b, "");
  op->has_version = 1;
  op->version = opset;
  ops[0] = op;
  m->opset_import = ops;
  m->n_opset_import = 1;
  g->name = dup_str(b, producer && producer[0] ? producer : "graph");
  m->graph = g;
  b->model = m;
  return b;
}

void qb_onnx_builder_free(qb_onnx_builder* b) {
  if (!b) return;
  if (b->model) protobuf_c_message_free_unpacked(&b->model->base, NULL);
  free(b);
}

/* ------------------------------------------------------ inputs and outputs */

static int32_t onnx_type_of(qb_dtype t) {
  switch (t) {
    case QB_F32: return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    case QB_F64: return ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    case QB_I8: return ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
    case QB_U8: return ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
    case QB_I16: return ONNX__TENSOR_PROTO__DATA_TYPE__INT16;
    case QB_U16: return ONNX__TENSOR_PROTO__DATA_TYPE__UINT16;
    case QB_I32: return ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    case QB_I64: return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  }
  return ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED;
}

/* A ValueInfoProto of a tensor type; a dim of -1 becomes the symbolic dim "N". */
static Onnx__ValueInfoProto* value_info(qb_onnx_builder* b, const char* name, qb_dtype t,
                                        int ndim, const int64_t* dims) {
  Onnx__ValueInfoProto* vi = alloc_msg(b, sizeof *vi);
  Onnx__TypeProto* tp = alloc_msg(b, sizeof *tp);
  Onnx__TypeProto__Tensor* tt = alloc_msg(b, sizeof *tt);
  Onnx__TensorShapeProto* sh = alloc_msg(b, sizeof *sh);
  Onnx__TensorShapeProto__Dimension** dv =
      ndim > 0 ? alloc_msg(b, (size_t)ndim * sizeof *dv) : NULL;
  if (b->out_of_memory) {
    free(vi), free(tp), free(tt), free(sh), free(dv);
    return NULL;
  }
  onnx__value_info_proto__init(vi);
  onnx__type_proto__init(tp);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(sh);
  vi->name = dup_str(b, name);
  vi->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  tt->has_elem_type = 1;
  tt->elem_type = onnx_type_of(t);
  tt->shape = sh;
  sh->dim = dv;
  for (int i = 0; i < ndim; i++) {
    Onnx__TensorShapeProto__Dimension* d = alloc_msg(b, sizeof *d);
    if (!d) break;
    onnx__tensor_shape_proto__dimension__init(d);
    if (dims[i] < 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = dup_str(b, "N");
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    }
    dv[sh->n_dim++] = d;
  }
  return vi;
}

void qb_onnx_builder_input(qb_onnx_builder* b, const char* name, qb_dtype t, int ndim,
                           const int64_t* dims) {
  Onnx__GraphProto* g = b->model->graph;
  void** slot = push_slot(b, (void***)&g->input, &g->n_input);
  if (slot) *slot = value_info(b, name, t, ndim, dims);
  if (slot && !*slot) g->n_input--;
}

void qb_onnx_builder_output(qb_onnx_builder* b, const char* name, qb_dtype t, int ndim,
                            const int64_t* dims) {
  Onnx__GraphProto* g = b->model->graph;
  void** slot = push_slot(b, (void***)&g->output, &g->n_output);
  if (slot) *slot = value_info(b, name, t, ndim, dims);
  if (slot && !*slot) g->n_output--;
}

/* ------------------------------------------------------------ initializers */

/* Copies elements into dst in little-endian byte order (raw_data's order). */
static void to_little_endian(uint8_t* dst, const void* src, size_t numel, size_t elsize) {
  memcpy(dst, src, numel * elsize);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (size_t i = 0; i < numel; i++, dst += elsize)
    for (size_t a = 0, z = elsize - 1; a < z; a++, z--) {
      const uint8_t t = dst[a];
      dst[a] = dst[z];
      dst[z] = t;
    }
#endif
}

/* A TensorProto holding t as raw_data (NULL on oom). */
static Onnx__TensorProto* tensor_proto(qb_onnx_builder* b, const char* name, const qb_tensor* t) {
  Onnx__TensorProto* tp = alloc_msg(b, sizeof *tp);
  const size_t numel = qb_tensor_numel(t), elsize = qb_dtype_size(t->dtype);
  const size_t bytes = numel * elsize;
  int64_t* dims = t->ndim > 0 ? alloc_msg(b, (size_t)t->ndim * sizeof *dims) : NULL;
  /* calloc(0) may return NULL: keep one byte so an empty tensor is not "oom". */
  uint8_t* raw = alloc_msg(b, bytes > 0 ? bytes : 1);
  if (b->out_of_memory) {
    free(tp), free(dims), free(raw);
    return NULL;
  }
  onnx__tensor_proto__init(tp);
  tp->name = dup_str(b, name);
  tp->has_data_type = 1;
  tp->data_type = onnx_type_of(t->dtype);
  for (int i = 0; i < t->ndim; i++) dims[i] = (int64_t)t->dims[i];
  tp->dims = dims;
  tp->n_dims = (size_t)t->ndim;
  if (numel) to_little_endian(raw, t->data, numel, elsize);
  tp->has_raw_data = 1;
  tp->raw_data.data = raw;
  tp->raw_data.len = numel * elsize;
  return tp;
}

void qb_onnx_builder_initializer(qb_onnx_builder* b, const char* name, const qb_tensor* t) {
  Onnx__GraphProto* g = b->model->graph;
  Onnx__TensorProto* tp = tensor_proto(b, name, t);
  if (!tp) return;
  void** slot = push_slot(b, (void***)&g->initializer, &g->n_initializer);
  if (slot)
    *slot = tp;
  else
    protobuf_c_message_free_unpacked(&tp->base, NULL);
}

/* ------------------------------------------------------------------- nodes */

qb_onnx_node* qb_onnx_builder_node(qb_onnx_builder* b, const char* op_type, const char* name,
                                   size_t ninputs, const char* const* inputs, size_t noutputs,
                                   const char* const* outputs) {
  Onnx__GraphProto* g = b->model->graph;
  qb_onnx_node* n = alloc_msg(b, sizeof *n);
  char** in = ninputs ? alloc_msg(b, ninputs * sizeof *in) : NULL;
  char** out = noutputs ? alloc_msg(b, noutputs * sizeof *out) : NULL;
  if (b->out_of_memory) {
    free(n), free(in), free(out);
    return NULL;
  }
  onnx__node_proto__init(&n->proto);
  n->owner = b;
  n->proto.op_type = dup_str(b, op_type);
  n->proto.name = dup_str(b, name);
  /* An omitted optional input is the empty string in ONNX. */
  for (size_t i = 0; i < ninputs; i++) in[i] = dup_str(b, inputs[i]);
  for (size_t i = 0; i < noutputs; i++) out[i] = dup_str(b, outputs[i]);
  n->proto.input = in;
  n->proto.n_input = ninputs;
  n->proto.output = out;
  n->proto.n_output = noutputs;
  void** slot = push_slot(b, (void***)&g->node, &g->n_node);
  if (!slot) {
    protobuf_c_message_free_unpacked(&n->proto.base, NULL);
    return NULL;
  }
  *slot = &n->proto;
  return n;
}

/* A new attribute appended to the node, its name and type set; NULL on oom. */
static Onnx__AttributeProto* new_attr(qb_onnx_node* n, const char* name,
                                      Onnx__AttributeProto__AttributeType type) {
  if (!n) return NULL;
  qb_onnx_builder* b = n->owner;
  Onnx__AttributeProto* a = alloc_msg(b, sizeof *a);
  if (!a) return NULL;
  onnx__attribute_proto__init(a);
  a->name = dup_str(b, name);
  a->has_type = 1;
  a->type = type;
  void** slot = push_slot(b, (void***)&n->proto.attribute, &n->proto.n_attribute);
  if (!slot) {
    protobuf_c_message_free_unpacked(&a->base, NULL);
    return NULL;
  }
  *slot = a;
  return a;
}

void qb_onnx_node_attr_int(qb_onnx_node* n, const char* name, int64_t v) {
  Onnx__AttributeProto* a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  if (!a) return;
  a->has_i = 1;
  a->i = v;
}

void qb_onnx_node_attr_float(qb_onnx_node* n, const char* name, float v) {
  Onnx__AttributeProto* a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  if (!a) return;
  a->has_f = 1;
  a->f = v;
}

void qb_onnx_node_attr_ints(qb_onnx_node* n, const char* name, size_t count, const int64_t* v) {
  Onnx__AttributeProto* a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  if (!a || count == 0) return;
  int64_t* copy = alloc_msg(n->owner, count * sizeof *copy);
  if (!copy) return;
  memcpy(copy, v, count * sizeof *copy);
  a->ints = copy;
  a->n_ints = count;
}

void qb_onnx_node_attr_string(qb_onnx_node* n, const char* name, const char* v) {
  Onnx__AttributeProto* a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  if (!a) return;
  char* s = dup_str(n->owner, v);
  if (!s) return;
  a->has_s = 1;
  a->s.data = (uint8_t*)s;
  a->s.len = strlen(s);
}

void qb_onnx_node_attr_tensor(qb_onnx_node* n, const char* name, const qb_tensor* t) {
  Onnx__AttributeProto* a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  if (a) a->t = tensor_proto(n->owner, "", t);
}

/* ---------------------------------------------------------------- metadata */

void qb_onnx_builder_metadata(qb_onnx_builder* b, const char* key, const char* value) {
  Onnx__ModelProto* m = b->model;
  for (size_t i = 0; i < m->n_metadata_props; i++)
    if (strcmp(m->metadata_props[i]->key, key) == 0) {
      char* v = dup_str(b, value);
      if (!v) return;
      free(m->metadata_props[i]->value);
      m->metadata_props[i]->value = v;
      return;
    }
  Onnx__StringStringEntryProto* e = alloc_msg(b, sizeof *e);
  if (!e) return;
  onnx__string_string_entry_proto__init(e);
  e->key = dup_str(b, key);
  e->value = dup_str(b, value);
  void** slot = push_slot(b, (void***)&m->metadata_props, &m->n_metadata_props);
  if (slot)
    *slot = e;
  else
    protobuf_c_message_free_unpacked(&e->base, NULL);
}

/* -------------------------------------------------------------------- save */

int qb_onnx_builder_save(qb_onnx_builder* b, const char* path, qb_error* err) {
  if (b->out_of_memory)
    return qb_fail(err, "%s: out of memory while building the model; nothing written", path);
  const size_t size = onnx__model_proto__get_packed_size(b->model);
  uint8_t* buf = malloc(size ? size : 1);
  if (!buf) return qb_fail(err, "%s: out of memory serializing %zu bytes", path, size);
  onnx__model_proto__pack(b->model, buf);
  FILE* f = fopen(path, "wb");
  if (!f) {
    const int e = errno;
    free(buf);
    return qb_fail(err, "%s: cannot open for writing: %s", path, strerror(e));
  }
  const size_t put = fwrite(buf, 1, size, f);
  free(buf);
  const int write_error = put != size || ferror(f);
  if (fclose(f) != 0 || write_error) {
    remove(path);
    return qb_fail(err, "%s: write error (disk full?)", path);
  }
  return 0;
}
