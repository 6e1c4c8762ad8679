/* qbench train MODEL: trains one of the reference models on Fashion-MNIST in C and
 * saves it as ONNX (opset 17) plus its recipe as JSON (the training record: optimizer,
 * learning rate, epochs, batch, seed, measured fp32 test accuracy, training time). */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_cli.h"
#include "qb_reference_models.h"
#include "qb_trainer.h"

#define TRAIN_MAX_BATCH 256

void qb_cmd_train_help(void) {
  printf(
      "usage: qbench train MODEL [options]\n\n"
      "Train a reference model (mlp, cnn, dwnet, vit) on the first 55,000 Fashion-MNIST\n"
      "training images (the last 5,000 are the calibration split), print per epoch the\n"
      "training loss and the top-1 accuracy on the 10,000 test images, and save the model\n"
      "as ONNX with its recipe next to it (FILE.json). Same seed, same weights.\n\n"
      "options:\n"
      "  --epochs N     epochs (default: the model's recipe)\n"
      "  --seed S       initialization and shuffling seed (default 1)\n"
      "  --out F.onnx   output model (default MODEL.onnx); the recipe goes to F.json\n"
      "  --limit N      train on the first N images only (quick runs, tests)\n"
      "  --batch N      minibatch size, 1..%d (default: the recipe's)\n"
      "  --lr X         peak learning rate (default: the recipe's)\n"
      "  --data DIR     Fashion-MNIST IDX folder (default " QB_FASHION_MNIST ")\n"
      "  -h, --help     this help\n\n"
      "Recipes: mlp, cnn SGD momentum 0.9; dwnet SGD (BN folded at export); vit AdamW;\n"
      "all with linear warm-up and cosine decay.\n",
      TRAIN_MAX_BATCH);
}

typedef struct {
  const char* model;
  const char* out;
  const char* data;
  size_t limit;
  qb_train_recipe recipe;
} train_opts;

static int parse_float(const char* text, float lo, float hi, float* out) {
  char* end = NULL;
  const double v = strtod(text, &end);
  if (!text[0] || *end || !(v >= lo && v <= hi)) return 0;
  *out = (float)v;
  return 1;
}

static int parse_train_opts(int argc, char** argv, train_opts* o) {
  static const struct option longopts[] = {
      {"epochs", required_argument, 0, 'e'}, {"seed", required_argument, 0, 's'},
      {"out", required_argument, 0, 'o'},    {"limit", required_argument, 0, 'l'},
      {"batch", required_argument, 0, 'b'},  {"lr", required_argument, 0, 'r'},
      {"data", required_argument, 0, 'd'},   {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  long epochs = -1, seed = 1, limit = 0, batch = -1;
  float lr = -1.0f;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 'e':
        if (!qb_cli_parse_long(optarg, 1, 1000, &epochs))
          return qb_cli_usage_error("train", "--epochs '%s': expected 1..1000", optarg);
        break;
      case 's':
        if (!qb_cli_parse_long(optarg, 0, 1L << 62, &seed))
          return qb_cli_usage_error("train", "--seed '%s': expected a non-negative integer",
                                    optarg);
        break;
      case 'l':
        if (!qb_cli_parse_long(optarg, 1, 1L << 30, &limit))
          return qb_cli_usage_error("train", "--limit '%s': expected a positive integer", optarg);
        break;
      case 'b':
        if (!qb_cli_parse_long(optarg, 1, TRAIN_MAX_BATCH, &batch))
          return qb_cli_usage_error("train", "--batch '%s': expected 1..%d", optarg,
                                    TRAIN_MAX_BATCH);
        break;
      case 'r':
        if (!parse_float(optarg, 1e-7f, 10.0f, &lr))
          return qb_cli_usage_error("train", "--lr '%s': expected a number in 1e-7..10", optarg);
        break;
      case 'o': o->out = optarg; break;
      case 'd': o->data = optarg; break;
      case 'h': qb_cmd_train_help(); return -1;
      case ':': return qb_cli_usage_error("train", "option %s needs a value", argv[optind - 1]);
      default:
        return qb_cli_usage_error("train", "unknown option '%s' (see qbench train --help)",
                                  argv[optind - 1]);
    }
  }
  if (optind >= argc) return qb_cli_usage_error("train", "missing MODEL (mlp, cnn, dwnet, vit)");
  if (optind + 1 < argc)
    return qb_cli_usage_error("train", "unexpected argument '%s'", argv[optind + 1]);
  o->model = argv[optind];
  if (qb_reference_model_recipe(o->model, &o->recipe) != 0)
    return qb_cli_usage_error("train", "unknown model '%s' (expected mlp, cnn, dwnet or vit)",
                              o->model);
  if (epochs > 0) o->recipe.epochs = (int)epochs;
  if (batch > 0) o->recipe.batch = (size_t)batch;
  if (lr > 0) o->recipe.lr = lr;
  o->recipe.seed = (uint64_t)seed;
  o->limit = (size_t)limit;
  return 0;
}

/* Fails early (before minutes of training) when the output folder is not writable. */
static int check_writable_dir(const char* path, qb_error* err) {
  char copy[4096];
  snprintf(copy, sizeof copy, "%s", path);
  const char* dir = dirname(copy);
  if (access(dir, W_OK) != 0) return qb_fail(err, "%s: folder '%s' is not writable", path, dir);
  return 0;
}

/* FILE.onnx -> FILE.json (or FILE + ".json"). */
static void recipe_path(const char* onnx, char* buf, size_t len) {
  const size_t n = strlen(onnx);
  if (n > 5 && strcmp(onnx + n - 5, ".onnx") == 0)
    snprintf(buf, len, "%.*s.json", (int)(n - 5), onnx);
  else
    snprintf(buf, len, "%s.json", onnx);
}

static int write_recipe_json(const char* path, const train_opts* o, const qb_net* net,
                             const qb_train_data* d, const qb_train_result* r, qb_error* err) {
  FILE* f = fopen(path, "w");
  if (!f) return qb_fail(err, "%s: cannot open for writing", path);
  const qb_train_recipe* rc = &o->recipe;
  fprintf(f, "{\n  \"model\": ");
  qb_json_string(f, o->model);
  fprintf(f, ",\n  \"dataset\": \"fashion-mnist\",\n  \"train_images\": %zu,\n", d->ntrain);
  fprintf(f, "  \"test_images\": %zu,\n  \"optimizer\": \"%s\",\n", d->ntest,
          qb_opt_name(rc->opt.kind));
  fprintf(f, "  \"lr\": %g,\n  \"schedule\": \"linear warm-up then cosine decay to 0\",\n",
          (double)rc->lr);
  fprintf(f, "  \"warmup_steps\": %ld,\n", rc->warmup_steps);
  if (rc->opt.kind == QB_OPT_SGD)
    fprintf(f, "  \"momentum\": %g,\n", (double)rc->opt.momentum);
  else
    fprintf(f, "  \"betas\": [%g, %g],\n  \"eps\": %g,\n", (double)rc->opt.beta1,
            (double)rc->opt.beta2, (double)rc->opt.eps);
  fprintf(f, "  \"weight_decay\": %g,\n  \"epochs\": %d,\n  \"batch\": %zu,\n",
          (double)rc->opt.weight_decay, rc->epochs, rc->batch);
  fprintf(f, "  \"seed\": %llu,\n  \"parameters\": %zu,\n", (unsigned long long)rc->seed,
          qb_net_param_count(net));
  fprintf(f, "  \"weights_fnv1a\": \"%016llx\",\n",
          (unsigned long long)qb_net_weights_hash(net));
  fprintf(f, "  \"final_train_loss\": ");
  qb_json_number(f, r->final_loss);
  fprintf(f, ",\n  \"test_accuracy_fp32\": ");
  qb_json_number(f, r->test_accuracy);
  fprintf(f, ",\n  \"training_seconds\": %.1f,\n  \"threads\": 1\n}\n", r->seconds);
  if (fclose(f) != 0) return qb_fail(err, "%s: write error", path);
  return 0;
}

int qb_cmd_train(int argc, char** argv) {
  train_opts o = {.data = QB_FASHION_MNIST};
  int rc = parse_train_opts(argc, argv, &o);
  if (rc) return rc < 0 ? QB_EXIT_OK : rc;
  char default_out[64], json[4096];
  if (!o.out) {
    snprintf(default_out, sizeof default_out, "%s.onnx", o.model);
    o.out = default_out;
  }
  recipe_path(o.out, json, sizeof json);
  qb_error err;
  if (check_writable_dir(o.out, &err) != 0) {
    fprintf(stderr, "qbench train: error: %s\n", err.msg);
    return QB_EXIT_USAGE;
  }
  qb_train_data d;
  if (qb_train_data_load(&d, o.data, o.limit, &err) != 0) {
    fprintf(stderr, "qbench train: error: %s\n", err.msg);
    return QB_EXIT_USAGE;
  }
  qb_net* net = qb_reference_model_build(o.model, TRAIN_MAX_BATCH, o.recipe.seed, &err);
  if (!net) {
    qb_train_data_free(&d);
    fprintf(stderr, "qbench train: error: %s\n", err.msg);
    return QB_EXIT_FAILURE;
  }
  printf("training %s: %zu parameters, %zu images, %d epochs, batch %zu, %s lr %g, seed %llu\n",
         o.model, qb_net_param_count(net), d.ntrain, o.recipe.epochs, o.recipe.batch,
         qb_opt_name(o.recipe.opt.kind), (double)o.recipe.lr,
         (unsigned long long)o.recipe.seed);
  qb_train_result r;
  rc = qb_train_run(net, &d, &o.recipe, &r, stdout, &err);
  if (rc == 0) rc = qb_net_export_onnx(net, o.out, 0, NULL, &err);
  if (rc == 0) rc = write_recipe_json(json, &o, net, &d, &r, &err);
  if (rc == 0)
    printf("%s: test accuracy %.2f %% after %.1f s of training; wrote %s and %s\n", o.model,
           100.0 * (double)r.test_accuracy, r.seconds, o.out, json);
  else
    fprintf(stderr, "qbench train: error: %s\n", err.msg);
  qb_net_free(net);
  qb_train_data_free(&d);
  return rc == 0 ? QB_EXIT_OK : QB_EXIT_FAILURE;
}
