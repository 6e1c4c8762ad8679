/* QAT plumbing: loading an fp32 ONNX model back into a qb_net, attaching fake-quant,
 * calibrating. See qb_qat.h. */
#include "qb_qat.h"

#include <stdlib.h>
#include <string.h>

#include "qb_fakequant.h"
#include "qb_layers.h"
#include "qb_onnx.h"
#include "qb_reference_models.h"

static const char* metadata(const Onnx__ModelProto* m, const char* key) {
  for (size_t i = 0; i < m->n_metadata_props; i++)
    if (m->metadata_props[i]->key && strcmp(m->metadata_props[i]->key, key) == 0)
      return m->metadata_props[i]->value;
  return NULL;
}

static int load_param(qb_param* p, const Onnx__GraphProto* g, const char* path,
                      qb_error* err) {
  qb_tensor t;
  if (qb_onnx_initializer(g, p->name, &t, err) != 0)
    return qb_fail(err, "%s: no initializer '%s' with the layout qbench train writes "
                   "(was the model written by qbench train?)", path, p->name);
  int same = t.dtype == QB_F32 && t.ndim == p->ndim;
  for (int i = 0; same && i < p->ndim; i++) same = t.dims[i] == p->dims[i];
  if (!same) {
    char shape[64];
    qb_tensor_shape_str(&t, shape, sizeof shape);
    const char* dtype = qb_dtype_name(t.dtype);
    qb_tensor_free(&t);
    return qb_fail(err, "%s: initializer '%s' has shape %s (%s), not the model's", path,
                   p->name, shape, dtype);
  }
  memcpy(p->w, t.data, p->count * sizeof *p->w);
  qb_tensor_free(&t);
  return 0;
}

qb_net* qb_net_load_onnx(const char* path, size_t max_batch, qb_error* err) {
  qb_onnx_model m;
  if (qb_onnx_model_read(path, &m, err) != 0) return NULL;
  const char* name = metadata(m.proto, "qbench.model");
  qb_net* net = NULL;
  if (!name) {
    qb_fail(err, "%s: no qbench.model metadata (expected a model written by qbench train)",
            path);
  } else if (strcmp(name, "mlp") != 0 && strcmp(name, "cnn") != 0) {
    qb_fail(err, "%s: model '%s' cannot be loaded for fine-tuning (its export folds or "
            "transposes parameters); QAT supports mlp and cnn", path, name);
  } else if ((net = qb_reference_model_build(name, max_batch, 0, err)) != NULL) {
    for (int i = 0; i < net->nparams; i++)
      if (load_param(net->params[i], m.graph, path, err) != 0) {
        qb_net_free(net);
        net = NULL;
        break;
      }
  }
  qb_onnx_model_free(&m);
  return net;
}

int qb_qat_attach(qb_net* net, int wbits, int abits, qb_error* err) {
  for (int i = 0; i < net->nlayers; i++) {
    qb_layer* l = net->layers[i];
    if (!qb_layer_is_dense(l) && !qb_layer_is_conv2d(l)) continue;
    const qb_param* w = l->params[0]; /* weight first: [out, ...] */
    l->wq = qb_fakequant_new_weight(wbits, w->dims[0], w->count);
    l->aq = qb_fakequant_new_act(abits, net->max_batch * l->in_size);
    if (!l->wq || !l->aq) return qb_fail(err, "out of memory attaching fake-quant");
  }
  return 0;
}

int qb_qat_calibrate(qb_net* net, const float* x, size_t n, qb_error* err) {
  const size_t in = net->layers[0]->in_size;
  for (size_t b = 0; b < n; b += net->max_batch) {
    const size_t count = n - b < net->max_batch ? n - b : net->max_batch;
    if (!qb_net_forward(net, count, x + b * in, 1))
      return qb_fail(err, "calibration forward failed (non-finite activations?)");
  }
  return 0;
}
