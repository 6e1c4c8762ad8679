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
  } else if (!qb_qat_model_supported(name)) {
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

bool qb_qat_model_supported(const char* reference_name) {
  return !strcmp(reference_name, "mlp") || !strcmp(reference_name, "cnn");
}

int qb_qat_attach(qb_net* net, const qb_qconfig* qc, qb_error* err) {
  if (qc->workflow != QB_WORKFLOW_STATIC)
    return qb_fail(err, "QAT fine-tunes for static quantization (weights and activations), "
                   "not %s", qb_workflow_name(qc->workflow));
  if (qc->act.granularity.kind != QB_PER_TENSOR)
    return qb_fail(err, "QAT quantizes activations per tensor");
  for (int i = 0; i < net->nlayers; i++) {
    qb_layer* l = net->layers[i];
    if (!qb_layer_is_dense(l) && !qb_layer_is_conv2d(l)) continue;
    const qb_param* w = l->params[0]; /* weight first: [out, ...] */
    l->wq = qb_fakequant_new_weight(&qc->weight, w->dims[0], w->count, err);
    if (!l->wq) return -1;
    const qb_range_kind obs = qc->act.range.kind;
    l->aq = qb_fakequant_new_act(&qc->act.scheme, obs, net->max_batch * l->in_size, err);
    if (!l->aq) return -1;
    l->oq = qb_fakequant_new_act(&qc->act.scheme, obs, net->max_batch * l->out_size, err);
    if (!l->oq) return -1;
  }
  return 0;
}

int qb_qat_calibrate(qb_net* net, const float* x, size_t n, qb_error* err) {
  const size_t in = net->layers[0]->in_size;
  const size_t batch = QB_QAT_CALIB_BATCH < net->max_batch ? QB_QAT_CALIB_BATCH : net->max_batch;
  for (size_t b = 0; b < n; b += batch) {
    const size_t count = n - b < batch ? n - b : batch;
    if (!qb_net_forward(net, count, x + b * in, 1))
      return qb_fail(err, "calibration forward failed (non-finite activations?)");
  }
  for (int i = 0; i < net->nlayers; i++) {
    qb_layer* l = net->layers[i];
    if (l->aq) l->aq->frozen = 1;
    if (l->oq) l->oq->frozen = 1;
  }
  return 0;
}

int qb_qat_finetune(qb_net* net, const qb_train_data* d, const qb_qat_recipe* r,
                    float* ptq_accuracy, qb_train_result* out, FILE* progress, qb_error* err) {
  memset(out, 0, sizeof *out);
  const size_t ncal = r->calib < d->ncalib ? r->calib : d->ncalib;
  if (qb_qat_attach(net, &r->qc, err) || qb_qat_calibrate(net, d->calib_x, ncal, err)) return -1;
  if (ptq_accuracy) *ptq_accuracy = qb_net_accuracy(net, d->test_x, d->test_y, d->ntest);
  out->test_accuracy = ptq_accuracy ? *ptq_accuracy : 0.0f;
  if (r->epochs <= 0) return 0;
  const qb_train_recipe recipe = {.epochs = r->epochs, .batch = 128, .seed = r->seed,
                                  .opt = {.kind = QB_OPT_SGD, .momentum = 0.9f},
                                  .lr = r->lr, .warmup_steps = 0};
  return qb_train_run(net, d, &recipe, out, progress, err);
}
