/* qbench tensor: quantize one .npy tensor under one or more schemes and report the
 * qparams and the error of the dequantized tensor against the original. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_cli.h"
#include "qb_metrics.h"
#include "qb_npy.h"
#include "qb_onnx.h"
#include "qb_tensor_quant.h"

#define MAX_LIST 16

/* How the model runtime quantizes a layer's weight (harness/qruntime/qb_model_quant.c):
 * as [out, reduction] — a Conv weight [O, I/g, kh, kw] as [O, I/g*kh*kw], a Gemm
 * (transB=1) weight [N, K] as is, a [K, N] weight (Gemm transB=0, MatMul) read
 * transposed. Channels are the rows, groups run along the reduction. */
typedef struct {
  bool applies;           /* the initializer is input 1 of a Conv, Gemm or MatMul */
  bool kn;                /* stored [K, N]: channel axis 1, groups along axis 0 */
  char node[96];          /* "Conv 'conv2'" */
  int raw_ndim;
  size_t raw_dims[QB_MAX_DIMS];
} weight_view;

static void find_weight_view(const Onnx__GraphProto* g, const char* name, const qb_tensor* x,
                             weight_view* v) {
  memset(v, 0, sizeof *v);
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto* n = g->node[i];
    const char* w = qb_onnx_node_input(n, 1);
    if (!w || strcmp(w, name)) continue;
    const bool conv = !strcmp(n->op_type, "Conv") && x->ndim >= 3;
    const bool gemm = !strcmp(n->op_type, "Gemm") && x->ndim == 2;
    const bool matmul = !strcmp(n->op_type, "MatMul") && x->ndim == 2;
    if (!conv && !gemm && !matmul) continue;
    int64_t trans_b = 0;
    qb_error err;
    if (gemm && qb_onnx_attr_int(n, "transB", 0, &trans_b, &err)) continue;
    v->applies = true;
    v->kn = matmul || (gemm && !trans_b);
    snprintf(v->node, sizeof v->node, "%s '%.60s'", n->op_type, n->name ? n->name : "");
    v->raw_ndim = x->ndim;
    memcpy(v->raw_dims, x->dims, sizeof v->raw_dims);
    return;
  }
}

/* FILE.npy, or MODEL.onnx:NAME for an initializer (the weights users care about
 * live in models; this spares them an export step), with its runtime view. */
static int read_tensor(const char* path, qb_tensor* x, weight_view* view, qb_error* err) {
  memset(view, 0, sizeof *view);
  const char* sep = strstr(path, ".onnx:");
  if (!sep) return qb_npy_read(path, x, err);
  char model_path[4096];
  const size_t len = (size_t)(sep - path) + strlen(".onnx");
  if (len >= sizeof model_path) return qb_fail(err, "%s: path too long", path);
  memcpy(model_path, path, len);
  model_path[len] = '\0';
  qb_onnx_model m;
  if (qb_onnx_model_read(model_path, &m, err)) return -1;
  const char* name = sep + strlen(".onnx:");
  const int rc = qb_onnx_initializer(m.graph, name, x, err);
  if (!rc) find_weight_view(m.graph, name, x, view);
  qb_onnx_model_free(&m);
  return rc;
}

/* Without --axis, a layer weight is quantized in the runtime's view: a Conv weight
 * reshaped to [O, rest] (the same bytes), a [K, N] weight with the channel axis 1 and
 * groups along axis 0. */
static void apply_weight_view(const weight_view* v, qb_tensor* x, qb_tensor_qspec* specs,
                              size_t nspecs) {
  if (!v->applies) return;
  if (x->ndim > 2) {
    const size_t rows = x->dims[0], cols = qb_tensor_numel(x) / (rows ? rows : 1);
    x->ndim = 2, x->dims[0] = rows, x->dims[1] = cols;
  }
  for (size_t i = 0; i < nspecs; i++) {
    qb_granularity* g = &specs[i].granularity;
    if (g->kind == QB_PER_CHANNEL) g->axis = v->kn ? 1 : 0;
    if (g->kind == QB_PER_GROUP) g->axis = v->kn ? 0 : 1;
  }
}

void qb_cmd_tensor_help(void) {
  printf(
      "usage: qbench tensor FILE.npy [options]\n"
      "       qbench tensor MODEL.onnx:INITIALIZER [options]\n\n"
      "Quantize a float32 C-order .npy tensor, or a float32 initializer of an ONNX\n"
      "model (e.g. harness/models/reference/cnn.onnx:conv2.weight; a weight held in a\n"
      "Constant node counts as one: PaddleOCR's ...cls_infer.onnx:conv2d_0.w_0), and print, per\n"
      "combination of the list options, every scale and zero point and the error of\n"
      "the dequantized tensor.\n\n"
      "options (lists are comma-separated or repeated; one row per combination):\n"
      "  --bits N[,N..]          bit width 2..8 or 16 (default 8)\n"
      "  --scheme S[,S..]        affine | symmetric (default affine)\n"
      "  --signed | --unsigned   integer storage (default: unsigned for affine,\n"
      "                          signed for symmetric)\n"
      "  --restricted            drop the lowest code: -127..127 at 8 bits signed\n"
      "  --granularity G[,G..]   tensor | channel | group:G (default tensor)\n"
      "  --axis A                channel axis (default 0) or the axis groups run\n"
      "                          along (default -1, the last); negative counts from the end.\n"
      "                          Without it, a Conv / Gemm / MatMul weight of a model is\n"
      "                          quantized as the runtime does: [out, reduction] (a conv\n"
      "                          weight [O,I,kh,kw] as [O, I*kh*kw]), channels = outputs,\n"
      "                          groups along the reduction; with it, the raw tensor\n"
      "  --range R[,R..]         minmax | movavg | percentile:P | mse | entropy |\n"
      "                          crossentropy (default minmax)\n"
      "  --rounding M            div: round(x/scale), as ONNX (default)\n"
      "                          mul-recip: round(x*(1/scale)), as PyTorch\n"
      "  --json                  one JSON object per combination (JSON Lines)\n"
      "  --max-params N          in text mode print at most N scale/zero-point pairs per\n"
      "                          combination (default 16, 0 = all; --json prints all)\n"
      "  --out-dequant F.npy     write the dequantized tensor (one combination only)\n"
      "  -h, --help              this help\n\n"
      "metrics: SQNR in dB, MSE, normalized L2 (||x-x'||/||x||), cosine similarity,\n"
      "max / median / p95 absolute error, and the count of clipped elements (whose\n"
      "rounded value fell outside the integer range).\n");
}

typedef struct {
  const char* path;
  char* bits[MAX_LIST];
  size_t nbits;
  char* schemes[MAX_LIST];
  size_t nschemes;
  char* grans[MAX_LIST];
  size_t ngrans;
  char* ranges[MAX_LIST];
  size_t nranges;
  int sign; /* -1 default, 0 unsigned, 1 signed */
  bool restricted, json, axis_set;
  long axis, max_params;
  qb_round_mode rounding;
  const char* out_dequant;
} tensor_opts;

static int append_list(char* arg, char** items, size_t* n) {
  *n += qb_cli_split_list(arg, items + *n, MAX_LIST - *n);
  return 0;
}

static int parse_opts(int argc, char** argv, tensor_opts* o) {
  static const struct option longopts[] = {
      {"bits", required_argument, 0, 'b'},     {"scheme", required_argument, 0, 's'},
      {"signed", no_argument, 0, 'S'},         {"unsigned", no_argument, 0, 'U'},
      {"restricted", no_argument, 0, 'r'},     {"granularity", required_argument, 0, 'g'},
      {"axis", required_argument, 0, 'a'},     {"range", required_argument, 0, 'R'},
      {"rounding", required_argument, 0, 'm'}, {"json", no_argument, 0, 'j'},
      {"max-params", required_argument, 0, 'p'}, {"out-dequant", required_argument, 0, 'o'},
      {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  o->sign = -1;
  o->max_params = 16;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 'b': append_list(optarg, o->bits, &o->nbits); break;
      case 's': append_list(optarg, o->schemes, &o->nschemes); break;
      case 'g': append_list(optarg, o->grans, &o->ngrans); break;
      case 'R': append_list(optarg, o->ranges, &o->nranges); break;
      case 'S': o->sign = 1; break;
      case 'U': o->sign = 0; break;
      case 'r': o->restricted = true; break;
      case 'j': o->json = true; break;
      case 'o': o->out_dequant = optarg; break;
      case 'a':
        if (!qb_cli_parse_long(optarg, -8, 7, &o->axis))
          return qb_cli_usage_error("tensor", "--axis '%s': expected an integer in -8..7", optarg);
        o->axis_set = true;
        break;
      case 'p':
        if (!qb_cli_parse_long(optarg, 0, 1L << 30, &o->max_params))
          return qb_cli_usage_error("tensor", "--max-params '%s': expected an integer >= 0", optarg);
        break;
      case 'm':
        if (!strcmp(optarg, "div")) o->rounding = QB_ROUND_DIV;
        else if (!strcmp(optarg, "mul-recip")) o->rounding = QB_ROUND_MUL_RECIP;
        else return qb_cli_usage_error("tensor", "--rounding '%s': expected div or mul-recip", optarg);
        break;
      case 'h': qb_cmd_tensor_help(); return -1;
      case ':': return qb_cli_usage_error("tensor", "option %s needs a value", argv[optind - 1]);
      default: return qb_cli_usage_error("tensor", "unknown option '%s' (see qbench tensor --help)", argv[optind - 1]);
    }
  }
  if (optind != argc - 1)
    return qb_cli_usage_error("tensor", optind >= argc ? "missing FILE.npy (see qbench tensor --help)"
                                                       : "expected exactly one FILE.npy");
  o->path = argv[optind];
  static char def_bits[] = "8", def_scheme[] = "affine", def_gran[] = "tensor", def_range[] = "minmax";
  if (!o->nbits) o->bits[o->nbits++] = def_bits;
  if (!o->nschemes) o->schemes[o->nschemes++] = def_scheme;
  if (!o->ngrans) o->grans[o->ngrans++] = def_gran;
  if (!o->nranges) o->ranges[o->nranges++] = def_range;
  return 0;
}

/* Builds the spec of one combination; usage errors name the offending value. */
static int make_spec(const tensor_opts* o, const char* bits, const char* scheme, const char* gran,
                     const char* range, qb_tensor_qspec* spec) {
  qb_error err;
  memset(spec, 0, sizeof *spec);
  long b;
  if (!qb_cli_parse_long(bits, 2, 16, &b) || (b > 8 && b != 16))
    return qb_cli_usage_error("tensor", "--bits '%s': expected 2..8 or 16", bits);
  spec->scheme.bits = (int)b;
  if (!strcmp(scheme, "affine")) spec->scheme.symmetry = QB_AFFINE;
  else if (!strcmp(scheme, "symmetric")) spec->scheme.symmetry = QB_SYMMETRIC;
  else return qb_cli_usage_error("tensor", "--scheme '%s': expected affine or symmetric", scheme);
  spec->scheme.is_signed = o->sign >= 0 ? o->sign == 1 : spec->scheme.symmetry == QB_SYMMETRIC;
  spec->scheme.restricted = o->restricted;
  spec->scheme.rounding = o->rounding;
  if (qb_granularity_parse(gran, &spec->granularity, &err))
    return qb_cli_usage_error("tensor", "--granularity: %s", err.msg);
  if (o->axis_set) spec->granularity.axis = (int)o->axis;
  if (qb_range_parse(range, &spec->range, &err))
    return qb_cli_usage_error("tensor", "--range: %s", err.msg);
  return 0;
}

/* A JSON array; a non-finite float (an overflowing scale) is written null, as JSON
 * has no inf or nan. Returns how many were. */
static size_t print_float_array(FILE* f, const char* key, size_t n, const void* base,
                                size_t stride, bool is_int) {
  size_t non_finite = 0;
  fprintf(f, ",\"%s\":[", key);
  for (size_t i = 0; i < n; i++) {
    const char* p = (const char*)base + i * stride;
    if (i) fputc(',', f);
    if (is_int) {
      fprintf(f, "%d", *(const int32_t*)p);
    } else if (isfinite(*(const float*)p)) {
      fprintf(f, "%.9g", (double)*(const float*)p);
    } else {
      fputs("null", f);
      non_finite++;
    }
  }
  fputc(']', f);
  return non_finite;
}

static void print_json(const tensor_opts* o, const weight_view* v, const qb_tensor* x,
                       const qb_tensor_qspec* s, const qb_quantized_tensor* q,
                       const qb_error_metrics* m) {
  char buf[64];
  const size_t n = q->layout.nunits, numel = qb_tensor_numel(x);
  printf("{\"file\":");
  qb_json_string(stdout, o->path);
  const int ndim = v->applies ? v->raw_ndim : x->ndim;
  const size_t* dims = v->applies ? v->raw_dims : x->dims;
  printf(",\"shape\":[");
  for (int i = 0; i < ndim; i++) printf(i ? ",%zu" : "%zu", dims[i]);
  printf("]");
  if (v->applies) /* the runtime's [out, reduction] view the axes refer to */
    printf(",\"view\":[%zu,%zu]", x->dims[v->kn ? 1 : 0], x->dims[v->kn ? 0 : 1]);
  printf(",\"bits\":%d,\"scheme\":\"%s\",\"signed\":%s,\"restricted\":%s", s->scheme.bits,
         s->scheme.symmetry == QB_SYMMETRIC ? "symmetric" : "affine",
         s->scheme.is_signed ? "true" : "false", s->scheme.restricted ? "true" : "false");
  printf(",\"qmin\":%d,\"qmax\":%d", qb_qscheme_qmin(&s->scheme), qb_qscheme_qmax(&s->scheme));
  printf(",\"granularity\":\"%s\"", qb_granularity_str(&s->granularity, buf, sizeof buf));
  if (s->granularity.kind != QB_PER_TENSOR) printf(",\"axis\":%d", s->granularity.axis);
  printf(",\"range\":\"%s\",\"rounding\":\"%s\",\"units\":%zu",
         qb_range_str(&s->range, buf, sizeof buf),
         s->scheme.rounding == QB_ROUND_DIV ? "div" : "mul-recip", n);
  size_t non_finite =
      print_float_array(stdout, "scale", n, &q->params[0].scale, sizeof q->params[0], false);
  print_float_array(stdout, "zero_point", n, &q->params[0].zero_point, sizeof q->params[0], true);
  non_finite += print_float_array(stdout, "range_min", n, q->range_min, sizeof(float), false);
  non_finite += print_float_array(stdout, "range_max", n, q->range_max, sizeof(float), false);
  const struct { const char* key; double v; } metrics[] = {
      {"sqnr_db", m->sqnr_db},       {"mse", m->mse},
      {"norm_l2", m->norm_l2},       {"cosine", m->cosine},
      {"max_abs_err", m->max_abs},   {"median_abs_err", m->median_abs},
      {"p95_abs_err", m->p95_abs},   {"clipped_fraction", (double)q->clipped / (double)numel}};
  for (size_t i = 0; i < sizeof metrics / sizeof *metrics; i++) {
    printf(",\"%s\":", metrics[i].key);
    qb_json_number(stdout, metrics[i].v);
  }
  printf(",\"clipped\":%zu", q->clipped);
  /* Why a value above is null (JSON has no inf or nan). */
  if (non_finite || m->nonfinite)
    printf(",\"note\":\"%s%s%s\"", non_finite ? "a scale or range overflows float32 (null)" : "",
           non_finite && m->nonfinite ? "; " : "",
           m->nonfinite ? "dequantized values are not finite: error metrics are undefined (null)"
                        : "");
  printf("}\n");
}

static void print_header(const tensor_opts* o, const weight_view* wv, const qb_tensor* x) {
  char shape[128];
  const float* v = x->data;
  const size_t n = qb_tensor_numel(x);
  float lo = v[0], hi = v[0];
  for (size_t i = 1; i < n; i++) lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi;
  qb_tensor raw = *x;
  if (wv->applies) raw.ndim = wv->raw_ndim, memcpy(raw.dims, wv->raw_dims, sizeof raw.dims);
  printf("%s: float32 %s, %zu elements, range [%.6g, %.6g]\n", o->path,
         qb_tensor_shape_str(&raw, shape, sizeof shape), n, (double)lo, (double)hi);
  if (wv->applies)
    printf("weight of %s, quantized as the runtime does: [out, reduction] = [%zu, %zu]%s "
           "(--axis: the raw tensor)\n", wv->node, x->dims[wv->kn ? 1 : 0],
           x->dims[wv->kn ? 0 : 1], wv->kn ? ", stored [reduction, out]" : "");
  printf("\n");
  printf("%-4s %-9s %-4s %-10s %-16s %6s %9s %11s %9s %9s %10s %10s %10s %8s\n", "bits",
         "scheme", "int", "gran", "range", "units", "SQNR(dB)", "MSE", "normL2", "cosine",
         "max|err|", "med|err|", "p95|err|", "clipped");
}

static void print_row(const tensor_opts* o, const qb_tensor_qspec* s, const qb_quantized_tensor* q,
                      const qb_error_metrics* m) {
  char gran[32], range[32];
  printf("%-4d %-9s %c%-3d %-10s %-16s %6zu %9.3f %11.4e %9.5f %9.6f %10.4e %10.4e %10.4e %8zu\n",
         s->scheme.bits, s->scheme.symmetry == QB_SYMMETRIC ? "symmetric" : "affine",
         s->scheme.is_signed ? 's' : 'u', s->scheme.bits,
         qb_granularity_str(&s->granularity, gran, sizeof gran),
         qb_range_str(&s->range, range, sizeof range), q->layout.nunits, m->sqnr_db, m->mse,
         m->norm_l2, m->cosine, m->max_abs, m->median_abs, m->p95_abs, q->clipped);
  const size_t n = q->layout.nunits;
  const size_t shown = (o->max_params == 0 || (size_t)o->max_params > n) ? n : (size_t)o->max_params;
  printf("     scale/zero_point:");
  for (size_t i = 0; i < shown; i++)
    printf("%s %.6g/%d", (i && i % 6 == 0) ? "\n                      " : "",
           (double)q->params[i].scale, q->params[i].zero_point);
  if (shown < n) printf(" ... (%zu more: --max-params 0 or --json)", n - shown);
  printf("\n");
}

/* Runs one combination; returns an exit code. */
static int run_one(const tensor_opts* o, const weight_view* v, const qb_tensor* x,
                   const qb_tensor_qspec* spec) {
  qb_error err;
  qb_quantized_tensor q;
  if (qb_quantize_tensor(spec, x, &q, &err)) {
    fprintf(stderr, "qbench tensor: error: %s: %s\n", o->path, err.msg);
    return QB_EXIT_USAGE;
  }
  qb_error_metrics m;
  int rc = QB_EXIT_OK;
  if (qb_metrics_compute(x->data, q.dequant, qb_tensor_numel(x), &m, &err)) {
    fprintf(stderr, "qbench tensor: error: %s\n", err.msg);
    rc = QB_EXIT_FAILURE;
  } else {
    if (o->json) print_json(o, v, x, spec, &q, &m);
    else print_row(o, spec, &q, &m);
    if (o->out_dequant) {
      qb_tensor dq = *x; /* in the file's own shape */
      if (v->applies) dq.ndim = v->raw_ndim, memcpy(dq.dims, v->raw_dims, sizeof dq.dims);
      dq.data = q.dequant;
      if (qb_npy_write(o->out_dequant, &dq, &err)) {
        fprintf(stderr, "qbench tensor: error: %s\n", err.msg);
        rc = QB_EXIT_FAILURE;
      }
    }
  }
  qb_quantized_tensor_free(&q);
  return rc;
}

int qb_cmd_tensor(int argc, char** argv) {
  tensor_opts o;
  int rc = parse_opts(argc, argv, &o);
  if (rc) return rc < 0 ? QB_EXIT_OK : rc;
  const size_t combos = o.nbits * o.nschemes * o.ngrans * o.nranges;
  if (o.out_dequant && combos != 1)
    return qb_cli_usage_error("tensor", "--out-dequant needs exactly one combination, got %zu", combos);
  qb_tensor_qspec* specs = calloc(combos, sizeof *specs);
  if (!specs) return QB_EXIT_FAILURE;
  size_t k = 0;
  for (size_t b = 0; b < o.nbits; b++)
    for (size_t s = 0; s < o.nschemes; s++)
      for (size_t g = 0; g < o.ngrans; g++)
        for (size_t r = 0; r < o.nranges; r++)
          if ((rc = make_spec(&o, o.bits[b], o.schemes[s], o.grans[g], o.ranges[r], &specs[k++]))) {
            free(specs);
            return rc;
          }
  qb_error err;
  qb_tensor x;
  weight_view view;
  if (read_tensor(o.path, &x, &view, &err)) {
    free(specs);
    fprintf(stderr, "qbench tensor: error: %s\n", err.msg);
    return QB_EXIT_USAGE;
  }
  if (x.dtype != QB_F32) {
    fprintf(stderr, "qbench tensor: error: %s: dtype %s is not supported; expected float32 "
            "(convert with x.astype(np.float32))\n", o.path, qb_dtype_name(x.dtype));
    rc = QB_EXIT_USAGE;
  } else if (qb_tensor_numel(&x) == 0) {
    fprintf(stderr, "qbench tensor: error: %s: the tensor is empty\n", o.path);
    rc = QB_EXIT_USAGE;
  } else if (qb_check_finite(x.data, qb_tensor_numel(&x), &err)) {
    fprintf(stderr, "qbench tensor: error: %s: %s\n", o.path, err.msg);
    rc = QB_EXIT_USAGE;
  } else {
    if (o.axis_set) view.applies = false;
    apply_weight_view(&view, &x, specs, combos);
    if (!o.json) print_header(&o, &view, &x);
    for (k = 0; k < combos && rc == QB_EXIT_OK; k++) rc = run_one(&o, &view, &x, &specs[k]);
  }
  qb_tensor_free(&x);
  free(specs);
  return rc;
}
