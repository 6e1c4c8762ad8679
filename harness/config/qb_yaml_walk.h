/* Walking a libyaml document with positions: the small layer between libyaml's
 * node arrays and the config schema. Every error names FILE:LINE:COL (1-based, from
 * the node's start mark), the key path, what was expected and what was found. */
#ifndef QB_YAML_WALK_H
#define QB_YAML_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "qb_error.h"

typedef struct {
  yaml_document_t* doc;
  const char* file;
  qb_error* err;
} qb_yaml_ctx;

/* "FILE:L:C: PATH: expected EXPECTED, got <what node is>"; returns -1. */
int qb_yaml_expected(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path,
                     const char* expected);
/* "FILE:L:C: PATH: MESSAGE" at n; returns -1. */
int qb_yaml_fail_at(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, const char* fmt,
                    ...) __attribute__((format(printf, 4, 5)));

/* The scalar text (NUL-terminated by libyaml), or NULL for a non-scalar. */
const char* qb_yaml_scalar(const yaml_node_t* n);
bool qb_yaml_is_null(const yaml_node_t* n); /* empty plain scalar, "~" or "null" */

/* Strict parsers of a scalar node: the whole text, within [lo, hi]. */
int qb_yaml_long(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, long lo, long hi,
                 long* out);
int qb_yaml_string(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, char* out,
                   size_t size);

/* A list-valued key: a sequence of scalars, or one scalar (a list of one). Calls
 * item(ctx, node, path, index, user) for each; fails on an empty list, a nested
 * collection, or more than `max` items. */
typedef int (*qb_yaml_item_fn)(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path,
                               size_t index, void* user);
int qb_yaml_each_scalar(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t max,
                        qb_yaml_item_fn item, void* user);

/* A mapping whose keys are all in `keys` (NULL-terminated). Duplicate or unknown keys
 * are errors (the message lists the known keys). Calls field(ctx, key, value, path,
 * user) per pair, where path is "<parent>.<key>" (or "<key>" at the top). */
typedef int (*qb_yaml_field_fn)(const qb_yaml_ctx* c, const char* key, const yaml_node_t* value,
                                const char* path, void* user);
int qb_yaml_each_field(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path,
                       const char* const* keys, qb_yaml_field_fn field, void* user);

#endif
