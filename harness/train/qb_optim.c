/* SGD with momentum and AdamW. See qb_optim.h. */
#include "qb_optim.h"

#include <math.h>

const char* qb_opt_name(qb_opt_kind k) { return k == QB_OPT_ADAMW ? "adamw" : "sgd"; }

/* v = mu v + (g + wd w); w -= lr v. */
static void sgd_update(const qb_optimizer* o, qb_param* p, float lr) {
  const float wd = p->decay ? o->weight_decay : 0.0f;
  for (size_t i = 0; i < p->count; i++) {
    p->m[i] = o->momentum * p->m[i] + (p->grad[i] + wd * p->w[i]);
    p->w[i] -= lr * p->m[i];
  }
}

/* m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * w -= lr (m / (1-b1^t) / (sqrt(v / (1-b2^t)) + eps) + wd w). */
static void adamw_update(const qb_optimizer* o, qb_param* p, float lr) {
  const float wd = p->decay ? o->weight_decay : 0.0f;
  const float c1 = 1.0f - powf(o->beta1, (float)o->step);
  const float c2 = 1.0f - powf(o->beta2, (float)o->step);
  for (size_t i = 0; i < p->count; i++) {
    const float g = p->grad[i];
    p->m[i] = o->beta1 * p->m[i] + (1.0f - o->beta1) * g;
    p->v[i] = o->beta2 * p->v[i] + (1.0f - o->beta2) * g * g;
    const float mhat = p->m[i] / c1, vhat = p->v[i] / c2;
    p->w[i] -= lr * (mhat / (sqrtf(vhat) + o->eps) + wd * p->w[i]);
  }
}

void qb_optimizer_step(qb_optimizer* o, qb_net* net, float lr) {
  o->step++;
  for (int i = 0; i < net->nparams; i++) {
    if (o->kind == QB_OPT_ADAMW)
      adamw_update(o, net->params[i], lr);
    else
      sgd_update(o, net->params[i], lr);
  }
}
