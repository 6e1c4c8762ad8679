/* qbench ocr-data: write a generated, labelled OCR data set (harness/ocrdata). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "qb_cli.h"
#include "qb_ocr_synth.h"

void qb_cmd_ocr_data_help(void) {
  printf(
      "usage: qbench ocr-data --task ocr-rec|ocr-cls|ocr-det --out DIR [options]\n\n"
      "Render a labelled OCR data set with FreeType (DejaVu fonts, the wamerican word\n"
      "list plus digits and punctuation, light deterministic contrast / blur / noise),\n"
      "preprocessed for PaddleOCR's models, into DIR: eval.npy + calib.npy (float32\n"
      "[N, 3, H, W]: rec 48x320, cls 48x192, det 320x320), their labels (rec: one text\n"
      "line per sample, det: boxes \"x0 y0 x1 y1 ...\" per sample, cls: int32 .npy,\n"
      "1 = rotated 180 degrees) and preprocess.txt. Calibration samples differ from the\n"
      "evaluation samples (and rec / cls calibration texts from every evaluation text).\n"
      "Same seed, same bytes.\n\n"
      "options:\n"
      "  --seed S          random seed (default 1)\n"
      "  --count N         evaluation samples (default 200)\n"
      "  --calibration N   calibration samples (default 64)\n"
      "  --dictionary F    allowed characters, one per line (the recognizer's\n"
      "                    dictionary, e.g. ppocr_keys_v1.txt; space is always allowed)\n"
      "  --words F         word list (default " QB_OCR_WORDS_DEFAULT ")\n"
      "  --fonts DIR       DejaVu font folder (default " QB_OCR_FONTS_DEFAULT ")\n"
      "  -h, --help        this help\n");
}

int qb_cmd_ocr_data(int argc, char** argv) {
  static const struct option opts[] = {
      {"task", required_argument, 0, 't'},       {"out", required_argument, 0, 'o'},
      {"seed", required_argument, 0, 's'},       {"count", required_argument, 0, 'n'},
      {"calibration", required_argument, 0, 'c'}, {"dictionary", required_argument, 0, 'd'},
      {"words", required_argument, 0, 'w'},      {"fonts", required_argument, 0, 'f'},
      {"help", no_argument, 0, 'h'},             {0, 0, 0, 0}};
  qb_ocr_synth_options o = {QB_TASK_COUNT, 1, 200, 64, NULL, NULL, NULL};
  const char* out = NULL;
  long v;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    switch (c) {
      case 't':
        if (qb_task_parse(optarg, &o.task) || o.task == QB_TASK_CLASSIFICATION || o.task == QB_TASK_OUTPUTS)
          return qb_cli_usage_error("ocr-data", "--task: expected ocr-rec, ocr-cls or ocr-det, got '%s'", optarg);
        break;
      case 'o': out = optarg; break;
      case 's':
        if (!qb_cli_parse_long(optarg, 0, 2147483647L, &v))
          return qb_cli_usage_error("ocr-data", "--seed: expected 0..2^31-1, got '%s'", optarg);
        o.seed = (uint64_t)v;
        break;
      case 'n':
      case 'c':
        if (!qb_cli_parse_long(optarg, c == 'n' ? 1 : 0, 100000, &v))
          return qb_cli_usage_error("ocr-data", "--%s: expected %d..100000, got '%s'",
                                    c == 'n' ? "count" : "calibration", c == 'n', optarg);
        *(c == 'n' ? &o.eval_count : &o.calib_count) = (size_t)v;
        break;
      case 'd': o.dictionary = optarg; break;
      case 'w': o.words = optarg; break;
      case 'f': o.fonts_dir = optarg; break;
      case 'h': qb_cmd_ocr_data_help(); return QB_EXIT_OK;
      default: return QB_EXIT_USAGE;
    }
  }
  if (optind < argc) return qb_cli_usage_error("ocr-data", "unexpected argument '%s'", argv[optind]);
  if (o.task == QB_TASK_COUNT || !out) return qb_cli_usage_error("ocr-data", "--task and --out are required");
  qb_error err;
  if (qb_ocr_synth_write(&o, out, &err)) {
    fprintf(stderr, "qbench ocr-data: error: %s\n", err.msg);
    return QB_EXIT_USAGE;
  }
  printf("%s\n", out);
  return QB_EXIT_OK;
}
