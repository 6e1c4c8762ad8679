#include "qb_yaml_walk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libyaml marks are 0-based; editors (and our messages) count from 1. */
static int mark_line(const yaml_node_t* n) { return (int)n->start_mark.line + 1; }
static int mark_col(const yaml_node_t* n) { return (int)n->start_mark.column + 1; }

int qb_yaml_fail_at(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, const char* fmt,
                    ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return qb_fail(c->err, "%s:%d:%d: %s%s%s", c->file, mark_line(n), mark_col(n), path,
                 *path ? ": " : "", msg);
}

/* What a node is, for "got ...": the scalar itself (quoted, shortened) or its kind. */
static void describe(const yaml_node_t* n, char* buf, size_t size) {
  if (n->type == YAML_MAPPING_NODE) snprintf(buf, size, "a mapping");
  else if (n->type == YAML_SEQUENCE_NODE) snprintf(buf, size, "a list");
  else if (qb_yaml_is_null(n)) snprintf(buf, size, "an empty value");
  else snprintf(buf, size, "'%.60s%s'", qb_yaml_scalar(n), n->data.scalar.length > 60 ? "..." : "");
}

int qb_yaml_expected(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path,
                     const char* expected) {
  char got[96];
  describe(n, got, sizeof got);
  return qb_yaml_fail_at(c, n, path, "expected %s, got %s", expected, got);
}

const char* qb_yaml_scalar(const yaml_node_t* n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char*)n->data.scalar.value : NULL;
}

bool qb_yaml_is_null(const yaml_node_t* n) {
  if (!n || n->type != YAML_SCALAR_NODE) return false;
  if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  const char* s = (const char*)n->data.scalar.value;
  return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
         !strcmp(s, "NULL");
}

int qb_yaml_long(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, long lo, long hi,
                 long* out) {
  char expected[96];
  snprintf(expected, sizeof expected, "an integer in %ld..%ld", lo, hi);
  const char* s = qb_yaml_scalar(n);
  if (!s || !*s) return qb_yaml_expected(c, n, path, expected);
  errno = 0;
  char* end;
  const long v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return qb_yaml_expected(c, n, path, expected);
  *out = v;
  return 0;
}

int qb_yaml_string(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, char* out,
                   size_t size) {
  const char* s = qb_yaml_scalar(n);
  if (!s || qb_yaml_is_null(n)) return qb_yaml_expected(c, n, path, "a string");
  if (strlen(s) >= size) {
    char expected[64];
    snprintf(expected, sizeof expected, "a string of at most %zu characters", size - 1);
    return qb_yaml_expected(c, n, path, expected);
  }
  memcpy(out, s, strlen(s) + 1);
  return 0;
}

int qb_yaml_each_scalar(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t max,
                        qb_yaml_item_fn item, void* user) {
  if (n->type == YAML_SCALAR_NODE) {
    if (qb_yaml_is_null(n)) return qb_yaml_expected(c, n, path, "a list of values");
    return item(c, n, path, 0, user);
  }
  if (n->type != YAML_SEQUENCE_NODE) return qb_yaml_expected(c, n, path, "a list of values");
  const size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
  if (count == 0) return qb_yaml_expected(c, n, path, "a non-empty list");
  if (count > max) return qb_yaml_fail_at(c, n, path, "expected at most %zu values, got %zu", max, count);
  for (size_t i = 0; i < count; i++) {
    const yaml_node_t* v = yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
    if (v->type != YAML_SCALAR_NODE) return qb_yaml_expected(c, v, path, "a plain value");
    if (item(c, v, path, i, user)) return -1;
  }
  return 0;
}

static bool key_known(const char* key, const char* const* keys) {
  for (size_t i = 0; keys[i]; i++)
    if (!strcmp(keys[i], key)) return true;
  return false;
}

static void list_keys(const char* const* keys, char* buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; keys[i] && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", keys[i]);
}

int qb_yaml_each_field(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path,
                       const char* const* keys, qb_yaml_field_fn field, void* user) {
  if (n->type != YAML_MAPPING_NODE) return qb_yaml_expected(c, n, path, "a mapping");
  const yaml_node_pair_t* first = n->data.mapping.pairs.start;
  const yaml_node_pair_t* top = n->data.mapping.pairs.top;
  for (const yaml_node_pair_t* p = first; p < top; p++) {
    const yaml_node_t* k = yaml_document_get_node(c->doc, p->key);
    const yaml_node_t* v = yaml_document_get_node(c->doc, p->value);
    const char* key = qb_yaml_scalar(k);
    if (!key) return qb_yaml_expected(c, k, path, "a plain key");
    if (!key_known(key, keys)) {
      char known[512], expected[600];
      list_keys(keys, known, sizeof known);
      snprintf(expected, sizeof expected, "one of the keys %s", known);
      return qb_yaml_expected(c, k, path, expected);
    }
    for (const yaml_node_pair_t* q = first; q < p; q++) {
      const char* earlier = qb_yaml_scalar(yaml_document_get_node(c->doc, q->key));
      if (earlier && !strcmp(earlier, key))
        return qb_yaml_fail_at(c, k, path, "expected each key once, got '%s' again", key);
    }
    char sub[256];
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
    if (field(c, key, v, sub, user)) return -1;
  }
  return 0;
}
