/* Error metrics against hand-computed values. */
#include <math.h>

#include "qb_metrics.h"
#include "qb_test.h"

#define NEAR(a, b) (fabs((a) - (b)) <= 1e-9 * (1.0 + fabs(b)))

static void test_basic(void) {
  const float x[] = {1, 2, 3, 4}, y[] = {1, 2, 3, 5};
  qb_error_metrics m;
  qb_error err;
  QB_CHECK(qb_metrics_compute(x, y, 4, &m, &err) == 0);
  /* sum x^2 = 30, sum e^2 = 1 */
  QB_CHECK(NEAR(m.sqnr_db, 10.0 * log10(30.0)));
  QB_CHECK(NEAR(m.mse, 0.25));
  QB_CHECK(NEAR(m.norm_l2, sqrt(1.0 / 30.0)));
  /* <x,y> = 34, ||y||^2 = 39 */
  QB_CHECK(NEAR(m.cosine, 34.0 / sqrt(30.0 * 39.0)));
  QB_CHECK(NEAR(m.max_abs, 1.0));
  /* |e| sorted = 0 0 0 1: median at 1.5 -> 0; p95 at 2.85 -> 0.85 */
  QB_CHECK(NEAR(m.median_abs, 0.0));
  QB_CHECK(NEAR(m.p95_abs, 0.85));
}

static void test_edges(void) {
  const float x[] = {1, -2}, zero[] = {0, 0};
  qb_error_metrics m;
  qb_error err;
  QB_CHECK(qb_metrics_compute(x, x, 2, &m, &err) == 0);
  QB_CHECK(isinf(m.sqnr_db) && m.sqnr_db > 0);
  QB_CHECK(m.mse == 0 && m.norm_l2 == 0 && m.cosine == 1.0);
  QB_CHECK(qb_metrics_compute(zero, zero, 2, &m, &err) == 0);
  QB_CHECK(m.cosine == 1.0 && isinf(m.sqnr_db));
  QB_CHECK(qb_metrics_compute(zero, x, 2, &m, &err) == 0);
  QB_CHECK(m.cosine == 0.0 && isinf(m.sqnr_db) && m.sqnr_db < 0 && isinf(m.norm_l2));
  QB_CHECK(qb_metrics_compute(x, x, 0, &m, &err) != 0);
  /* odd count median: |e| = 1, 2, 3 -> 2 */
  const float a[] = {0, 0, 0}, b[] = {3, -1, 2};
  QB_CHECK(qb_metrics_compute(a, b, 3, &m, &err) == 0);
  QB_CHECK(NEAR(m.median_abs, 2.0));
  QB_CHECK(NEAR(m.p95_abs, 2.9)); /* position 1.9 between 2 and 3 */
}

static void test_logits(void) {
  /* P = softmax(0, 0) = (.5, .5); Q = softmax(0, ln 3) = (.25, .75):
   * KL = .5 ln 2 + .5 ln(2/3) = .5 ln(4/3) */
  const float p[] = {0, 0, 5, 1}, q[] = {0, (float)log(3.0), 5, 1};
  QB_CHECK(fabs(qb_kl_divergence_logits(p, q, 1, 2) - 0.5 * log(4.0 / 3.0)) < 1e-7);
  /* second row identical: mean over rows halves it */
  QB_CHECK(fabs(qb_kl_divergence_logits(p, q, 2, 2) - 0.25 * log(4.0 / 3.0)) < 1e-7);
  QB_CHECK(qb_kl_divergence_logits(p, p, 2, 2) == 0.0);
  /* argmax: first index wins ties; row 0 ties (0, 0) -> 0, q row 0 -> 1 */
  QB_CHECK_EQ_INT(qb_argmax(p, 2), 0);
  QB_CHECK(qb_top1_agreement(p, q, 2, 2) == 0.5);
  QB_CHECK(qb_top1_agreement(p, p, 2, 2) == 1.0);
  /* large logits stay finite (stable log-sum-exp) */
  const float big[] = {1000, 0}, big2[] = {0, 1000};
  QB_CHECK(isfinite(qb_kl_divergence_logits(big, big2, 1, 2)));
  QB_CHECK(fabs(qb_kl_divergence_logits(big, big2, 1, 2) - 1000.0) < 1e-6);
  /* Per row: the two rows' KL, whose mean is the value above. */
  double kl[2];
  qb_kl_divergence_rows(p, q, 2, 2, kl);
  QB_CHECK(fabs(kl[0] - 0.5 * log(4.0 / 3.0)) < 1e-7 && kl[1] == 0.0);
  /* The true class's probability: row 0, label 1: .5 -> .75 (+.25); row 1 unchanged
   * (0); RMS = sqrt(.25^2 / 2). Label 0 on row 0: .5 -> .25, the same magnitude. An
   * unlabelled row (-1) is skipped; no labelled row: NaN. */
  const int32_t y1[] = {1, 0}, y0[] = {0, -1}, none[] = {-1, -1};
  QB_CHECK(fabs(qb_true_class_prob_rms(p, q, y1, 2, 2) - sqrt(0.0625 / 2)) < 1e-7);
  QB_CHECK(fabs(qb_true_class_prob_rms(p, q, y0, 2, 2) - 0.25) < 1e-7);
  QB_CHECK(isnan(qb_true_class_prob_rms(p, q, none, 2, 2)));
}

int main(void) {
  test_basic();
  test_edges();
  test_logits();
  return qb_test_finish("test_metrics");
}
