/* Optimizers over a net's parameters: SGD with momentum (+ L2 weight decay folded
 * into the gradient, as torch.optim.SGD) and AdamW (Adam with decoupled weight decay,
 * as torch.optim.AdamW). Weight decay applies only to parameters marked `decay`. */
#ifndef QB_OPTIM_H
#define QB_OPTIM_H

#include "qb_net.h"

typedef enum { QB_OPT_SGD = 0, QB_OPT_ADAMW = 1 } qb_opt_kind;

typedef struct {
  qb_opt_kind kind;
  float momentum;      /* SGD: 0.9 */
  float beta1, beta2;  /* AdamW: 0.9, 0.999 */
  float eps;           /* AdamW: 1e-8 */
  float weight_decay;
  long step;           /* steps taken (Adam bias correction) */
} qb_optimizer;

const char* qb_opt_name(qb_opt_kind k); /* "sgd", "adamw" */
/* One update with learning rate lr from the gradients in the params. */
void qb_optimizer_step(qb_optimizer* o, qb_net* net, float lr);

#endif /* QB_OPTIM_H */
