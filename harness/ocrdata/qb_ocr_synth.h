/* Labelled OCR data generated here, deterministic from a seed: text rendered with
 * FreeType from Debian's DejaVu fonts (fonts-dejavu-core, fonts-dejavu-extra), words
 * from Debian's word list (wamerican: /usr/share/dict/words) plus digits and
 * punctuation, with light deterministic contrast, blur and noise.
 *
 * Three sets, each an evaluation split and a calibration split (different samples,
 * and for rec / cls no calibration line has the text of an evaluation line):
 *   ocr-rec  a text line [3, 48, 320]: rendered at height 48, its width w <= 320
 *            (lines wider than 320 are squeezed to 320, as PaddleOCR does), then
 *            right-padded with 0 after normalization; label = the text.
 *   ocr-cls  a text line [3, 48, 192], same preprocessing; a random half rotated by
 *            180 degrees before padding; label 0 = upright, 1 = rotated.
 *   ocr-det  a 320 x 320 page [3, 320, 320] with 2..5 lines of 14..28 px text at
 *            known boxes (the ink's bounding rectangle, input pixels); label = boxes.
 * Preprocessing (PaddleOCR's, applied here so the .npy feeds the model as is):
 * rec and cls (x / 255 - 0.5) / 0.5 on every channel (RecResizeImg / ClsResizeImg);
 * det (x / 255 - mean[c]) / std[c], mean 0.485 0.456 0.406, std 0.229 0.224 0.225
 * (NormalizeImage), in the BGR order in which PaddleOCR reads images with OpenCV.
 * Text is grey on grey (B = G = R), so the channel order changes nothing but which
 * mean / std meets which copy.
 *
 * Files written into `dir` (qb_ocr_synth_write):
 *   eval.npy, calib.npy                float32 [N, 3, H, W]
 *   eval-labels.txt, calib-labels.txt  rec: one line of text per sample;
 *                                      det: "x0 y0 x1 y1 ..." per sample
 *   eval-labels.npy, calib-labels.npy  cls: int32 [N]
 *   preprocess.txt                     the preprocessing above, in one line
 * Sample i of a split is drawn from its own random stream (seed, task, split, i): the
 * first N samples do not depend on how many are generated. Same seed, same bytes
 * (with the same FreeType, fonts and word list). */
#ifndef QB_OCR_SYNTH_H
#define QB_OCR_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_task.h"

#define QB_OCR_WORDS_DEFAULT "/usr/share/dict/words"
#define QB_OCR_FONTS_DEFAULT "/usr/share/fonts/truetype/dejavu"

typedef struct {
  qb_task task;             /* QB_TASK_OCR_REC, _CLS or _DET */
  uint64_t seed;
  size_t eval_count, calib_count;
  const char* dictionary;   /* characters allowed in text (one per line); NULL = any */
  const char* words;        /* NULL: QB_OCR_WORDS_DEFAULT */
  const char* fonts_dir;    /* NULL: QB_OCR_FONTS_DEFAULT */
} qb_ocr_synth_options;

/* One line describing the preprocessing of a task's generated inputs. */
const char* qb_ocr_synth_preprocess(qb_task task);

/* Writes the files above into dir (created with its parents if missing). */
int qb_ocr_synth_write(const qb_ocr_synth_options* opt, const char* dir, qb_error* err);

#endif
