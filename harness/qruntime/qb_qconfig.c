/* qconfig text form; see qb_qconfig.h for the grammar. */
#include "qb_qconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static qb_tensor_qspec spec_default(bool weight) {
  qb_tensor_qspec s;
  memset(&s, 0, sizeof s);
  s.scheme = (qb_qscheme){8, weight, false, weight ? QB_SYMMETRIC : QB_AFFINE, QB_ROUND_DIV};
  s.granularity = (qb_granularity){weight ? QB_PER_CHANNEL : QB_PER_TENSOR, 0, 0};
  s.range = qb_range_default(QB_RANGE_MINMAX);
  return s;
}

qb_qconfig qb_qconfig_default(void) {
  return (qb_qconfig){spec_default(true), spec_default(false), QB_WORKFLOW_STATIC, QB_REQUANT_FP32};
}

const char* qb_workflow_name(qb_workflow w) {
  switch (w) {
    case QB_WORKFLOW_WEIGHT_ONLY: return "weight-only";
    case QB_WORKFLOW_DYNAMIC: return "dynamic";
    case QB_WORKFLOW_QAT: return "qat";
    default: return "static";
  }
}

/* One part: "w8-sym-channel-minmax" (prefix 'w' or 'a'). */
static int parse_spec(char* part, char prefix, qb_tensor_qspec* s, qb_requant_rule* requant,
                      qb_error* err) {
  const bool weight = prefix == 'w';
  *s = spec_default(weight);
  char* save = NULL;
  char* tok = strtok_r(part, "-", &save);
  if (!tok || tok[0] != prefix)
    return qb_fail(err, "'%s' should start with %c<bits> (e.g. %c8)", part, prefix, prefix);
  char* end;
  const long bits = strtol(tok + 1, &end, 10);
  if (end == tok + 1 || *end || bits < 2 || (bits > 8 && bits != 16))
    return qb_fail(err, "'%s': bits must be 2..8 or 16", tok);
  s->scheme.bits = (int)bits;
  while ((tok = strtok_r(NULL, "-", &save))) {
    if (!strcmp(tok, "sym")) s->scheme.symmetry = QB_SYMMETRIC;
    else if (!strcmp(tok, "aff")) s->scheme.symmetry = QB_AFFINE;
    else if (!strcmp(tok, "signed")) s->scheme.is_signed = true;
    else if (!strcmp(tok, "unsigned")) s->scheme.is_signed = false;
    else if (!strcmp(tok, "restricted")) s->scheme.restricted = true;
    else if (!strcmp(tok, "div")) s->scheme.rounding = QB_ROUND_DIV;
    else if (!strcmp(tok, "mulrecip")) s->scheme.rounding = QB_ROUND_MUL_RECIP;
    else if (!weight && !strcmp(tok, "fp32")) *requant = QB_REQUANT_FP32;
    else if (!weight && !strcmp(tok, "gemmlowp")) *requant = QB_REQUANT_GEMMLOWP;
    else if (!strcmp(tok, "tensor") || !strcmp(tok, "channel") || !strncmp(tok, "group:", 6) ||
             !strcmp(tok, "token")) {
      if (qb_granularity_parse(tok, &s->granularity, err)) return -1;
      if (s->granularity.kind == QB_PER_CHANNEL) s->granularity.axis = 0;
      if (weight && s->granularity.kind == QB_PER_TOKEN)
        return qb_fail(err, "'token' is an activation granularity (dynamic workflow)");
      if (!weight && s->granularity.kind != QB_PER_TENSOR && s->granularity.kind != QB_PER_TOKEN)
        return qb_fail(err, "activations are quantized per tensor or per token (got '%s')", tok);
    } else if (qb_range_parse(tok, &s->range, NULL)) {
      return qb_fail(err, "unknown token '%s' in '%c' part (expected sym, aff, tensor, channel, "
                     "group:G, token (activations), signed, unsigned, restricted, div, mulrecip, fp32 / gemmlowp (activations) or a range: minmax, "
                     "movavg, percentile:P, mse, entropy, crossentropy)", tok, prefix);
    }
  }
  return qb_qscheme_check(&s->scheme, err);
}

int qb_qconfig_parse(const char* text, qb_qconfig* out, qb_error* err) {
  *out = qb_qconfig_default();
  char buf[512];
  if (!text || strlen(text) >= sizeof buf) return qb_fail(err, "qconfig missing or too long");
  snprintf(buf, sizeof buf, "%s", text);
  char* parts[4];
  size_t n = 0;
  char* save = NULL;
  for (char* p = strtok_r(buf, "/", &save); p && n < 4; p = strtok_r(NULL, "/", &save)) parts[n++] = p;
  if (n == 0 || n > 3)
    return qb_fail(err, "qconfig '%s': expected w<bits>.../a<bits>.../<workflow>", text);
  size_t i = 0;
  if (parse_spec(parts[i++], 'w', &out->weight, &out->requant, err)) goto bad;
  if (i < n && parts[i][0] == 'a') {
    if (parse_spec(parts[i++], 'a', &out->act, &out->requant, err)) goto bad;
  }
  if (i < n) {
    if (!strcmp(parts[i], "static")) out->workflow = QB_WORKFLOW_STATIC;
    else if (!strcmp(parts[i], "dynamic")) out->workflow = QB_WORKFLOW_DYNAMIC;
    else if (!strcmp(parts[i], "weight-only")) out->workflow = QB_WORKFLOW_WEIGHT_ONLY;
    else {
      qb_fail(err, "unknown workflow '%s' (expected static, dynamic or weight-only)", parts[i]);
      goto bad;
    }
    i++;
  }
  if (i != n) {
    qb_fail(err, "unexpected part '%s'", parts[i]);
    goto bad;
  }
  if (out->act.granularity.kind == QB_PER_TOKEN && out->workflow != QB_WORKFLOW_DYNAMIC) {
    qb_fail(err, "per-token activations are quantized at run time: the workflow must be dynamic");
    goto bad;
  }
  return 0;
bad:
  if (err) {
    char inner[sizeof err->msg];
    memcpy(inner, err->msg, sizeof inner);
    inner[sizeof inner - 1] = 0;
    qb_fail(err, "qconfig '%s': %s", text, inner);
  }
  return -1;
}

static int spec_str(const qb_tensor_qspec* s, char prefix, char* buf, size_t len) {
  char g[64], r[64];
  return snprintf(buf, len, "%c%d-%s-%s-%s-%s%s%s", prefix, s->scheme.bits,
                  s->scheme.symmetry == QB_SYMMETRIC ? "sym" : "aff",
                  qb_granularity_str(&s->granularity, g, sizeof g), qb_range_str(&s->range, r, sizeof r),
                  s->scheme.is_signed ? "signed" : "unsigned", s->scheme.restricted ? "-restricted" : "",
                  s->scheme.rounding == QB_ROUND_MUL_RECIP ? "-mulrecip" : "");
}

const char* qb_qconfig_str(const qb_qconfig* c, char* buf, size_t len) {
  char w[160], a[160];
  spec_str(&c->weight, 'w', w, sizeof w);
  const int n = spec_str(&c->act, 'a', a, sizeof a);
  if (c->requant == QB_REQUANT_GEMMLOWP && n > 0 && (size_t)n < sizeof a)
    snprintf(a + n, sizeof a - (size_t)n, "-gemmlowp");
  if (c->workflow == QB_WORKFLOW_WEIGHT_ONLY) snprintf(buf, len, "%s/weight-only", w);
  else snprintf(buf, len, "%s/%s/%s", w, a, qb_workflow_name(c->workflow));
  return buf;
}
