#include "qb_json_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_file.h"

/* Position just after `"key"` followed by optional spaces and a colon, or NULL. */
static const char* find_value(const char* text, size_t len, const char* key) {
  const size_t klen = strlen(key);
  for (size_t i = 0; i + klen + 2 <= len; i++) {
    if (text[i] != '"' || strncmp(text + i + 1, key, klen) || text[i + 1 + klen] != '"') continue;
    size_t j = i + klen + 2;
    while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) j++;
    if (j < len && text[j] == ':') {
      j++;
      while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
        j++;
      return text + j;
    }
  }
  return NULL;
}

bool qb_json_scan_string(const char* text, size_t len, const char* key, char* buf, size_t size) {
  const char* v = find_value(text, len, key);
  if (!v || *v != '"' || !size) return false;
  const char* end = text + len;
  size_t n = 0;
  for (v++; v < end && *v != '"'; v++) {
    char c = *v;
    if (c == '\\' && v + 1 < end) {
      c = *++v;
      if (c == 'n') c = '\n';
      else if (c == 't') c = '\t';
      else if (c == 'u') {
        v += (end - v > 4) ? 4 : 0;
        c = '?';
      }
    }
    if (n + 1 < size) buf[n++] = c;
  }
  buf[n] = '\0';
  return v < end;
}

bool qb_json_scan_number(const char* text, size_t len, const char* key, double* out) {
  const char* v = find_value(text, len, key);
  if (!v || v >= text + len) return false;
  char tmp[64];
  size_t n = 0;
  while (v + n < text + len && n + 1 < sizeof tmp && strchr("+-0123456789.eE", v[n])) {
    tmp[n] = v[n];
    n++;
  }
  tmp[n] = '\0';
  if (!n) return false;
  char* stop;
  *out = strtod(tmp, &stop);
  return *stop == '\0';
}

bool qb_json_next_object(const char* text, size_t len, size_t* pos, size_t* start, size_t* end) {
  size_t i = *pos;
  while (i < len && text[i] != '{') {
    if (text[i] == ']') return false; /* the enclosing array ended */
    i++;
  }
  if (i >= len) return false;
  *start = i;
  int depth = 0;
  bool in_string = false;
  for (; i < len; i++) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      depth++;
    } else if (c == '}' && --depth == 0) {
      *end = i + 1;
      *pos = i + 1;
      return true;
    }
  }
  return false;
}

char* qb_read_text_file(const char* path, size_t* len) {
  qb_error err;
  FILE* f = qb_open_input(path, QB_INPUT_MAX_BYTES, NULL, &err);
  if (!f) return NULL;
  char* data = NULL;
  size_t size = 0, cap = 0;
  for (;;) {
    if (cap - size < 4096) {
      cap = cap ? 2 * cap : 65536;
      char* d = realloc(data, cap + 1);
      if (!d) {
        free(data);
        fclose(f);
        return NULL;
      }
      data = d;
    }
    const size_t got = fread(data + size, 1, cap - size, f);
    size += got;
    if (got == 0) break;
  }
  fclose(f);
  data[size] = '\0';
  if (len) *len = size;
  return data;
}
