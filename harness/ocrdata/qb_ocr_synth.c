/* Synthetic OCR data: FreeType-rendered text lines and pages (see qb_ocr_synth.h). */
#include "qb_ocr_synth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "qb_file.h"
#include "qb_npy.h"

/* Faces from fonts-dejavu-core (the first four) and fonts-dejavu-extra. */
static const char* const font_files[] = {"DejaVuSans.ttf",      "DejaVuSans-Bold.ttf",
                                         "DejaVuSerif.ttf",     "DejaVuSansMono.ttf",
                                         "DejaVuSerif-Italic.ttf", "DejaVuSansCondensed.ttf"};
enum { NFONTS = sizeof font_files / sizeof font_files[0], TEXT_MAX = 128 };

/* ---- random numbers: splitmix64, one stream per sample ---- */

typedef struct {
  uint64_t s;
} rng;

static uint64_t next64(rng* r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* Uniform in [lo, hi] (integers). */
static int uniform(rng* r, int lo, int hi) { return lo + (int)(next64(r) % (uint64_t)(hi - lo + 1)); }
static double unit(rng* r) { return (double)(next64(r) >> 11) * (1.0 / 9007199254740992.0); }

static rng stream(uint64_t seed, qb_task task, int split, size_t index, int attempt) {
  rng r = {seed * 0x100000001B3ull ^ ((uint64_t)task << 56) ^ ((uint64_t)split << 48) ^
           ((uint64_t)attempt << 40) ^ (uint64_t)index};
  next64(&r), next64(&r);
  return r;
}

/* ---- words, characters ---- */

typedef struct {
  char** words;
  size_t count;
  unsigned char allowed[128]; /* ASCII characters the dictionary holds (all without one) */
  FT_Library ft;
  FT_Face faces[NFONTS];
} synth;

static int char_ok(const synth* s, char c) {
  if (c == ' ') return 1; /* PP-OCR rec models add the space class to the dictionary */
  return c > 0 && s->allowed[(unsigned char)c];
}

static int word_ok(const synth* s, const char* w, size_t len) {
  if (len < 2 || len > 10) return 0;
  for (size_t i = 0; i < len; i++) {
    const char c = w[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '\'')) return 0;
    if (!char_ok(s, c)) return 0;
  }
  return 1;
}

static int load_words(synth* s, const char* path, qb_error* err) {
  char* text = NULL;
  size_t len = 0;
  if (qb_file_read_all(path, 64u << 20, &text, &len, err)) return -1;
  size_t cap = 0;
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && text[j] != '\n') j++;
    if (word_ok(s, text + i, j - i)) {
      if (s->count == cap) {
        cap = cap ? 2 * cap : 4096;
        char** w = realloc(s->words, cap * sizeof *w);
        if (!w) goto oom;
        s->words = w;
      }
      if (!(s->words[s->count] = strndup(text + i, j - i))) goto oom;
      s->count++;
    }
    i = j + 1;
  }
  free(text);
  if (s->count < 100) return qb_fail(err, "%s: only %zu usable words (letters and ', 2..10 long)", path, s->count);
  return 0;
oom:
  free(text);
  return qb_fail(err, "%s: out of memory", path);
}

/* Appends a random token: a word (sometimes capitalised, sometimes with trailing
 * punctuation) or a number. */
static void add_token(const synth* s, rng* r, char* text, size_t cap) {
  char tok[32];
  const int kind = uniform(r, 0, 9);
  if (kind < 7) {
    snprintf(tok, sizeof tok, "%s", s->words[next64(r) % s->count]);
    if (uniform(r, 0, 4) == 0 && tok[0] >= 'a' && tok[0] <= 'z') tok[0] = (char)(tok[0] - 32);
    if (uniform(r, 0, 5) == 0) {
      static const char punct[] = ",.;:!?";
      const size_t n = strlen(tok);
      tok[n] = punct[uniform(r, 0, 5)], tok[n + 1] = 0;
    }
  } else if (kind == 7) {
    snprintf(tok, sizeof tok, "%d", uniform(r, 0, 99999));
  } else if (kind == 8) {
    snprintf(tok, sizeof tok, "%d.%02d", uniform(r, 0, 999), uniform(r, 0, 99));
  } else {
    static const char* const forms[] = {"(%d)", "%d%%", "#%d", "%d-%d", "$%d"};
    const int f = uniform(r, 0, 4);
    snprintf(tok, sizeof tok, forms[f], uniform(r, 1, 999), uniform(r, 1, 99));
  }
  for (const char* p = tok; *p; p++)
    if (!char_ok(s, *p)) return; /* e.g. a dictionary without '$' */
  const size_t n = strlen(text);
  if (n + strlen(tok) + 2 > cap) return;
  snprintf(text + n, cap - n, "%s%s", n ? " " : "", tok);
}

static void make_text(const synth* s, rng* r, int min_tokens, int max_tokens, char* text, size_t cap) {
  text[0] = 0;
  const int k = uniform(r, min_tokens, max_tokens);
  /* Words always pass the character filter (load_words), so a token comes soon. */
  for (int i = 0; (i < k || !text[0]) && i < 1000; i++) add_token(s, r, text, cap);
}

/* ---- rendering ---- */

typedef struct {
  int w, h;        /* canvas */
  float* cov;      /* coverage 0..1, h x w */
  int ink_x0, ink_y0, ink_x1, ink_y1; /* ink bounding rectangle, exclusive ends */
} line_img;

static void line_free(line_img* l) { free(l->cov), l->cov = NULL; }

/* Renders text with face at px pixels: canvas = advance width x (ascender - descender). */
static int render_line(const synth* s, int font, int px, const char* text, line_img* out,
                       qb_error* err) {
  memset(out, 0, sizeof *out);
  FT_Face face = s->faces[font];
  if (FT_Set_Pixel_Sizes(face, 0, (FT_UInt)px)) return qb_fail(err, "FreeType: cannot set size %d", px);
  const int asc = (int)(face->size->metrics.ascender >> 6);
  const int desc = (int)(-face->size->metrics.descender >> 6);
  int width = 0;
  for (const char* p = text; *p; p++) {
    if (FT_Load_Char(face, (FT_ULong)(unsigned char)*p, FT_LOAD_DEFAULT))
      return qb_fail(err, "FreeType: cannot load '%c'", *p);
    width += (int)(face->glyph->advance.x >> 6);
  }
  out->w = width + 2, out->h = asc + desc;
  out->cov = calloc((size_t)out->w * (size_t)out->h, sizeof *out->cov);
  if (!out->cov) return qb_fail(err, "out of memory rendering a line");
  out->ink_x0 = out->w, out->ink_y0 = out->h, out->ink_x1 = 0, out->ink_y1 = 0;
  int pen = 1;
  for (const char* p = text; *p; p++) {
    if (FT_Load_Char(face, (FT_ULong)(unsigned char)*p, FT_LOAD_RENDER)) {
      line_free(out);
      return qb_fail(err, "FreeType: cannot render '%c'", *p);
    }
    const FT_GlyphSlot g = face->glyph;
    const FT_Bitmap* b = &g->bitmap;
    if (b->rows && b->width && (b->pitch < 0 || b->pixel_mode != FT_PIXEL_MODE_GRAY)) {
      line_free(out);
      return qb_fail(err, "FreeType: '%c' did not render to an 8-bit top-down bitmap", *p);
    }
    for (unsigned y = 0; y < b->rows; y++)
      for (unsigned x = 0; x < b->width; x++) {
        const int cx = pen + g->bitmap_left + (int)x, cy = asc - g->bitmap_top + (int)y;
        const unsigned char v = b->buffer[(size_t)y * (size_t)b->pitch + x];
        if (cx < 0 || cy < 0 || cx >= out->w || cy >= out->h || !v) continue;
        float* c = &out->cov[(size_t)cy * (size_t)out->w + (size_t)cx];
        if (v / 255.0f > *c) *c = v / 255.0f;
        if (cx < out->ink_x0) out->ink_x0 = cx;
        if (cy < out->ink_y0) out->ink_y0 = cy;
        if (cx + 1 > out->ink_x1) out->ink_x1 = cx + 1;
        if (cy + 1 > out->ink_y1) out->ink_y1 = cy + 1;
      }
    pen += (int)(g->advance.x >> 6);
  }
  if (out->ink_x1 <= out->ink_x0) out->ink_x0 = out->ink_y0 = out->ink_x1 = out->ink_y1 = 0;
  return 0;
}

/* Bilinear sample of a coverage image at (x, y) in its pixel-centre coordinates. */
static float sample(const float* img, int w, int h, double x, double y) {
  if (x < 0) x = 0;
  if (y < 0) y = 0;
  if (x > w - 1) x = w - 1;
  if (y > h - 1) y = h - 1;
  const int x0 = (int)x, y0 = (int)y;
  const int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
  const double fx = x - x0, fy = y - y0;
  const double top = img[y0 * w + x0] * (1 - fx) + img[y0 * w + x1] * fx;
  const double bot = img[y1 * w + x0] * (1 - fx) + img[y1 * w + x1] * fx;
  return (float)(top * (1 - fy) + bot * fy);
}

/* Contrast, blur and noise of one sample: grey = bg + (fg - bg) * coverage, a
 * [1 2 1]/4 blur in both directions with probability 1/2, then uniform noise. */
typedef struct {
  double bg, fg, noise;
  int blur;
} look;

static look random_look(rng* r) {
  look l;
  l.bg = uniform(r, 170, 255);
  l.fg = uniform(r, 0, 90);
  l.noise = uniform(r, 0, 12);
  l.blur = uniform(r, 0, 1);
  return l;
}

static void blur121(float* img, int w, int h, float* tmp) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const float l = img[y * w + (x ? x - 1 : x)], c = img[y * w + x],
                  rr = img[y * w + (x + 1 < w ? x + 1 : x)];
      tmp[y * w + x] = 0.25f * l + 0.5f * c + 0.25f * rr;
    }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const float u = tmp[(y ? y - 1 : y) * w + x], c = tmp[y * w + x],
                  d = tmp[(y + 1 < h ? y + 1 : y) * w + x];
      img[y * w + x] = 0.25f * u + 0.5f * c + 0.25f * d;
    }
}

/* Coverage -> grey levels 0..255 (rounded, clamped) in place. */
static int shade(float* img, int w, int h, const look* l, rng* r) {
  if (l->blur) {
    float* tmp = malloc((size_t)w * (size_t)h * sizeof *tmp);
    if (!tmp) return -1;
    blur121(img, w, h, tmp);
    free(tmp);
  }
  for (int i = 0; i < w * h; i++) {
    double v = l->bg + (l->fg - l->bg) * img[i] + (2 * unit(r) - 1) * l->noise;
    v = v < 0 ? 0 : v > 255 ? 255 : v;
    img[i] = (float)nearbyint(v);
  }
  return 0;
}

/* ---- samples ---- */

enum { LINE_H = 48 };

/* A text line [3, 48, width]: text drawn, scaled to height 48 (kept aspect, at most
 * width wide), shaded, optionally rotated by 180 degrees, normalized, right-padded. */
static int line_sample(const synth* s, rng* r, int width, int rotate, const char* text, float* dst,
                       qb_error* err) {
  line_img li;
  const int font = uniform(r, 0, NFONTS - 1);
  if (render_line(s, font, uniform(r, 26, 40), text, &li, err)) return -1;
  /* Margins: a little space around the text, as a detector's crop leaves. */
  const int mx = uniform(r, 1, 6), my = uniform(r, 0, 4);
  const int cw = li.w + 2 * mx, ch = li.h + 2 * my;
  int w = (int)ceil(LINE_H * (double)cw / ch);
  if (w > width) w = width;
  float* img = malloc((size_t)w * LINE_H * sizeof *img);
  if (!img) {
    line_free(&li);
    return qb_fail(err, "out of memory");
  }
  for (int y = 0; y < LINE_H; y++)
    for (int x = 0; x < w; x++) {
      const double sx = (x + 0.5) * cw / w - 0.5 - mx, sy = (y + 0.5) * ch / LINE_H - 0.5 - my;
      const int inside = sx > -1 && sy > -1 && sx < li.w && sy < li.h;
      img[y * w + x] = inside ? sample(li.cov, li.w, li.h, sx, sy) : 0.0f;
    }
  line_free(&li);
  const look l = random_look(r);
  if (shade(img, w, LINE_H, &l, r)) {
    free(img);
    return qb_fail(err, "out of memory");
  }
  const size_t plane = (size_t)LINE_H * (size_t)width;
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < LINE_H; y++)
      for (int x = 0; x < width; x++) {
        float v = 0.0f; /* padding: 0 after normalization (PaddleOCR's padding_im) */
        if (x < w) {
          const int sx = rotate ? w - 1 - x : x, sy = rotate ? LINE_H - 1 - y : y;
          v = (img[sy * w + sx] / 255.0f - 0.5f) / 0.5f;
        }
        dst[(size_t)c * plane + (size_t)y * (size_t)width + (size_t)x] = v;
      }
  free(img);
  return 0;
}

enum { PAGE = 320, PAGE_MAX_LINES = 5 };

static const float det_mean[3] = {0.485f, 0.456f, 0.406f}, det_std[3] = {0.229f, 0.224f, 0.225f};

/* A page [3, 320, 320] with 2..5 lines; their ink boxes appended to labels. */
static int page_sample(const synth* s, rng* r, float* dst, char* labels, size_t cap, qb_error* err) {
  float* img = calloc((size_t)PAGE * PAGE, sizeof *img);
  if (!img) return qb_fail(err, "out of memory");
  const int want = uniform(r, 2, PAGE_MAX_LINES);
  int y = uniform(r, 4, 30), placed = 0;
  labels[0] = 0;
  for (int tries = 0; placed < want && tries < 20; tries++) {
    char text[TEXT_MAX];
    make_text(s, r, 1, 4, text, sizeof text);
    line_img li;
    if (render_line(s, uniform(r, 0, NFONTS - 1), uniform(r, 14, 28), text, &li, err)) {
      free(img);
      return -1;
    }
    if (li.w > PAGE - 8 || li.ink_x1 == 0) {
      line_free(&li);
      continue;
    }
    if (y + li.h > PAGE - 4) {
      line_free(&li);
      break;
    }
    const int x = uniform(r, 4, PAGE - 4 - li.w);
    for (int yy = 0; yy < li.h; yy++)
      for (int xx = 0; xx < li.w; xx++) {
        float* p = &img[(y + yy) * PAGE + x + xx];
        const float c = li.cov[yy * li.w + xx];
        if (c > *p) *p = c;
      }
    const size_t n = strlen(labels);
    snprintf(labels + n, cap - n, "%s%d %d %d %d", n ? " " : "", x + li.ink_x0, y + li.ink_y0,
             x + li.ink_x1, y + li.ink_y1);
    y += li.h + uniform(r, 6, 24);
    placed++;
    line_free(&li);
  }
  const look l = random_look(r);
  if (shade(img, PAGE, PAGE, &l, r)) {
    free(img);
    return qb_fail(err, "out of memory");
  }
  const size_t plane = (size_t)PAGE * PAGE;
  for (int c = 0; c < 3; c++)
    for (size_t i = 0; i < plane; i++) dst[c * plane + i] = (img[i] / 255.0f - det_mean[c]) / det_std[c];
  free(img);
  return 0;
}

/* ---- the splits ---- */

static int seen(char* const* texts, size_t n, const char* t) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(texts[i], t)) return 1;
  return 0;
}

typedef struct {
  const qb_ocr_synth_options* opt;
  const synth* s;
  char** eval_texts; /* rec / cls: texts of the evaluation split (kept from calibration) */
  size_t neval;
} split_ctx;

static int write_text(const char* path, char* const* lines, size_t n, qb_error* err) {
  FILE* f = fopen(path, "w");
  if (!f) return qb_fail(err, "%s: cannot write: %s", path, strerror(errno));
  for (size_t i = 0; i < n; i++) fprintf(f, "%s\n", lines[i]);
  return qb_close_output(f, path, err);
}

static int write_split(split_ctx* sc, const char* dir, int split, size_t count, qb_error* err) {
  const qb_ocr_synth_options* o = sc->opt;
  const int det = o->task == QB_TASK_OCR_DET, cls = o->task == QB_TASK_OCR_CLS;
  const size_t h = det ? PAGE : LINE_H, w = det ? PAGE : cls ? 192 : 320;
  const size_t dims[4] = {count, 3, h, w};
  qb_tensor x, y;
  memset(&y, 0, sizeof y);
  if (qb_tensor_alloc(&x, QB_F32, 4, dims, err)) return -1;
  char** labels = calloc(count ? count : 1, sizeof *labels);
  int rc = labels ? 0 : qb_fail(err, "out of memory");
  if (!rc && cls) rc = qb_tensor_alloc(&y, QB_I32, 1, dims, err);
  const size_t label_cap = det ? 256 : TEXT_MAX;
  for (size_t i = 0; !rc && i < count; i++) {
    float* dst = (float*)x.data + i * 3 * h * w;
    if (!(labels[i] = malloc(label_cap))) {
      rc = qb_fail(err, "out of memory");
      break;
    }
    if (det) {
      rng r = stream(o->seed, o->task, split, i, 0);
      rc = page_sample(sc->s, &r, dst, labels[i], label_cap, err);
      continue;
    }
    /* A calibration line never has an evaluation line's text. */
    rng r;
    for (int attempt = 0;; attempt++) {
      r = stream(o->seed, o->task, split, i, attempt);
      make_text(sc->s, &r, 1, 3, labels[i], label_cap);
      if (split == 0 || !seen(sc->eval_texts, sc->neval, labels[i]) || attempt == 1000) break;
    }
    const int rotate = cls ? uniform(&r, 0, 1) : 0;
    if (cls) ((int32_t*)y.data)[i] = rotate;
    rc = line_sample(sc->s, &r, (int)w, rotate, labels[i], dst, err);
  }
  char path[1200];
  snprintf(path, sizeof path, "%s/%s.npy", dir, split ? "calib" : "eval");
  if (!rc) rc = qb_npy_write(path, &x, err);
  snprintf(path, sizeof path, "%s/%s-labels.%s", dir, split ? "calib" : "eval", cls ? "npy" : "txt");
  if (!rc) rc = cls ? qb_npy_write(path, &y, err) : write_text(path, labels, count, err);
  qb_tensor_free(&x), qb_tensor_free(&y);
  if (split == 0 && !rc) {
    sc->eval_texts = labels, sc->neval = count;
    return 0;
  }
  for (size_t i = 0; labels && i < count; i++) free(labels[i]);
  free(labels);
  return rc;
}

const char* qb_ocr_synth_preprocess(qb_task task) {
  switch (task) {
    case QB_TASK_OCR_DET:
      return "page 320x320, grey text (B=G=R); x/255 - mean / std per channel in BGR order, "
             "mean 0.485 0.456 0.406, std 0.229 0.224 0.225 (PaddleOCR NormalizeImage)";
    case QB_TASK_OCR_CLS:
      return "line scaled to height 48 keeping aspect, width <= 192, (x/255 - 0.5)/0.5, "
             "right-padded with 0 to 192 (PaddleOCR ClsResizeImg); half rotated 180 degrees";
    default:
      return "line scaled to height 48 keeping aspect, width <= 320, (x/255 - 0.5)/0.5, "
             "right-padded with 0 to 320 (PaddleOCR RecResizeImg, one bucket of width 320)";
  }
}

static void synth_free(synth* s) {
  for (int f = 0; f < NFONTS; f++)
    if (s->faces[f]) FT_Done_Face(s->faces[f]);
  if (s->ft) FT_Done_FreeType(s->ft);
  for (size_t i = 0; i < s->count; i++) free(s->words[i]);
  free(s->words);
}

static int synth_init(synth* s, const qb_ocr_synth_options* o, qb_error* err) {
  memset(s->allowed, !o->dictionary, sizeof s->allowed);
  if (o->dictionary) {
    qb_ocr_dict d;
    if (qb_ocr_dict_load(o->dictionary, 0, &d, err)) return -1;
    for (size_t i = 0; i < d.count; i++)
      if (d.entries[i][0] > 0 && !d.entries[i][1]) s->allowed[(unsigned char)d.entries[i][0]] = 1;
    qb_ocr_dict_free(&d);
  }
  if (load_words(s, o->words ? o->words : QB_OCR_WORDS_DEFAULT, err)) return -1;
  if (FT_Init_FreeType(&s->ft)) return qb_fail(err, "FreeType: cannot initialise");
  const char* dir = o->fonts_dir ? o->fonts_dir : QB_OCR_FONTS_DEFAULT;
  for (int f = 0; f < NFONTS; f++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, font_files[f]);
    if (FT_New_Face(s->ft, path, 0, &s->faces[f]))
      return qb_fail(err, "%s: cannot open the font (install fonts-dejavu-core and fonts-dejavu-extra)", path);
  }
  return 0;
}

/* mkdir -p. */
static int make_dirs(const char* dir) {
  char path[1024];
  if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return errno = ENAMETOOLONG, -1;
  for (char* p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, 0777) && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(path, 0777) && errno != EEXIST ? -1 : 0;
}

int qb_ocr_synth_write(const qb_ocr_synth_options* opt, const char* dir, qb_error* err) {
  if (opt->task != QB_TASK_OCR_REC && opt->task != QB_TASK_OCR_CLS && opt->task != QB_TASK_OCR_DET)
    return qb_fail(err, "generated data exists for ocr-rec, ocr-cls and ocr-det, not %s",
                   qb_task_name(opt->task));
  if (make_dirs(dir)) return qb_fail(err, "%s: cannot create: %s", dir, strerror(errno));
  synth s;
  memset(&s, 0, sizeof s);
  split_ctx sc = {opt, &s, NULL, 0};
  int rc = synth_init(&s, opt, err);
  if (!rc) rc = write_split(&sc, dir, 0, opt->eval_count, err);
  if (!rc) rc = write_split(&sc, dir, 1, opt->calib_count, err);
  if (!rc) {
    char path[1200];
    snprintf(path, sizeof path, "%s/preprocess.txt", dir);
    FILE* f = fopen(path, "w");
    if (!f) rc = qb_fail(err, "%s: cannot write: %s", path, strerror(errno));
    else {
      fprintf(f, "%s\n", qb_ocr_synth_preprocess(opt->task));
      rc = qb_close_output(f, path, err);
    }
  }
  for (size_t i = 0; i < sc.neval; i++) free(sc.eval_texts[i]);
  free(sc.eval_texts);
  synth_free(&s);
  return rc;
}
