/* ONNX protobuf reader (harness/onnx): malformed input is rejected with a readable
 * error and never crashes; well-formed tensors and models read back exactly.
 *
 * Negative: missing file, directory, empty file, every strict prefix of real test
 * data files (truncation), random bytes (tensor and model), and TensorProtos built
 * with the protobuf-c API and packed with onnx__tensor_proto__pack whose raw_data
 * size does not match dims, with negative / huge / too many dims, unsupported or
 * unknown data_type, external data, payloads in the wrong typed field or in two
 * fields, int32_data out of range for the element type.
 * Positive: raw_data float, float_data, double_data, int32_data holding uint8 /
 * int8, raw int16, int64_data, scalar, zero-size tensor, names; a model built with
 * the API (attributes of each kind, an initializer, an omitted optional input) and
 * the real model.onnx files of the ONNX node tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb_onnx.h"
#include "qb_test.h"

static char dir[] = "/tmp/qb_test_onnx_XXXXXX";

static void tmp_path(char* buf, size_t len, const char* name) {
  snprintf(buf, len, "%s/%s", dir, name);
}

static void write_bytes(const char* path, const void* bytes, size_t n) {
  FILE* f = fopen(path, "wb");
  if (!f) abort();
  if (n && fwrite(bytes, 1, n, f) != n) abort();
  fclose(f);
}

static uint8_t* slurp(const char* path, size_t* n) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  const long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* buf = malloc(size > 0 ? (size_t)size : 1);
  *n = fread(buf, 1, (size_t)size, f);
  fclose(f);
  return buf;
}

/* Packs tp with onnx__tensor_proto__pack, writes it to a file and reads it back. */
static int pack_and_read(const Onnx__TensorProto* tp, qb_tensor* t, char* name, size_t name_len,
                         qb_error* err) {
  const size_t n = onnx__tensor_proto__get_packed_size(tp);
  uint8_t* buf = malloc(n ? n : 1);
  QB_CHECK_EQ_INT(onnx__tensor_proto__pack(tp, buf), n);
  char path[256];
  tmp_path(path, sizeof path, "built.pb");
  write_bytes(path, buf, n);
  free(buf);
  return qb_onnx_tensor_read(path, t, name, name_len, err);
}

/* Expects rejection with a message containing `needle`. */
static void expect_reject(const Onnx__TensorProto* tp, const char* needle, const char* what) {
  qb_tensor t;
  qb_error err = {{0}};
  const int rc = pack_and_read(tp, &t, NULL, 0, &err);
  QB_CHECK_MSG(rc == -1, "%s: accepted", what);
  QB_CHECK_MSG(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", what, err.msg,
               needle);
  QB_CHECK_MSG(t.data == NULL, "%s: data left allocated after failure", what);
  printf("  rejected %-28s %s\n", what, err.msg);
  if (rc == 0) qb_tensor_free(&t);
}

static void test_missing_empty_directory(void) {
  qb_tensor t;
  qb_error err;
  char path[256];
  tmp_path(path, sizeof path, "does_not_exist.pb");
  QB_CHECK(qb_onnx_tensor_read(path, &t, NULL, 0, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "cannot open") != NULL, "%s", err.msg);
  tmp_path(path, sizeof path, "empty.pb");
  write_bytes(path, "", 0);
  QB_CHECK(qb_onnx_tensor_read(path, &t, NULL, 0, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "empty") != NULL, "%s", err.msg);
  qb_onnx_model m;
  QB_CHECK(qb_onnx_model_read(path, &m, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "empty") != NULL, "%s", err.msg);
  QB_CHECK(m.proto == NULL);
  qb_onnx_model_free(&m); /* safe on a failed read */
  QB_CHECK(qb_onnx_tensor_read(dir, &t, NULL, 0, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "not a regular file") != NULL, "%s", err.msg);
  /* Text is not a TensorProto. */
  tmp_path(path, sizeof path, "text.pb");
  write_bytes(path, "hello, world\n", 13);
  QB_CHECK(qb_onnx_tensor_read(path, &t, NULL, 0, &err) == -1);
  printf("  rejected text file: %s\n", err.msg);
}

/* Every strict prefix of a real tensor file must be rejected: protobuf-c fails
 * inside a field, and a prefix ending between fields lacks the payload. */
static void test_truncated(const char* rel) {
  char src[512], path[256];
  snprintf(src, sizeof src, "%s/node/%s", QB_ONNX_TESTDATA, rel);
  size_t n = 0;
  uint8_t* bytes = slurp(src, &n);
  if (!bytes) {
    printf("  (no %s: truncation test skipped)\n", src);
    return;
  }
  qb_tensor t;
  qb_error err;
  QB_CHECK_MSG(qb_onnx_tensor_read(src, &t, NULL, 0, &err) == 0, "%s", err.msg);
  qb_tensor_free(&t);
  tmp_path(path, sizeof path, "truncated.pb");
  int rejected = 0, invalid = 0;
  for (size_t len = 1; len < n; len++) {
    write_bytes(path, bytes, len);
    const int rc = qb_onnx_tensor_read(path, &t, NULL, 0, &err);
    QB_CHECK_MSG(rc == -1, "%s truncated to %zu of %zu bytes was accepted", rel, len, n);
    if (rc == 0) qb_tensor_free(&t);
    rejected += rc == -1;
    invalid += strstr(err.msg, "not a valid ONNX TensorProto") != NULL;
  }
  printf("  %s: %d of %zu prefixes rejected (%d as invalid protobuf, the rest by the "
         "payload check)\n", rel, rejected, n - 1, invalid);
  free(bytes);
}

static void test_random_bytes(void) {
  char path[256];
  tmp_path(path, sizeof path, "random.bin");
  int tensor_rejected = 0, model_rejected = 0;
  const int rounds = 300;
  for (int r = 0; r < rounds; r++) {
    const size_t n = 1 + qb_rand_below(r < 200 ? 64 : 4096);
    uint8_t* b = malloc(n);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)qb_rand_u64();
    write_bytes(path, b, n);
    qb_tensor t;
    qb_error err;
    if (qb_onnx_tensor_read(path, &t, NULL, 0, &err) == 0)
      qb_tensor_free(&t); /* astronomically unlikely, and then it must be consistent */
    else
      tensor_rejected++;
    qb_onnx_model m;
    if (qb_onnx_model_read(path, &m, &err) == 0) {
      /* Random bytes can parse as a ModelProto with a graph; walking it must be safe. */
      for (size_t i = 0; i < m.graph->n_node; i++) (void)qb_onnx_node_attr(m.graph->node[i], "x");
      qb_onnx_model_free(&m);
    } else {
      model_rejected++;
    }
    free(b);
  }
  QB_CHECK_EQ_INT(tensor_rejected, rounds);
  printf("  random bytes: %d/%d rejected as tensors, %d/%d as models\n", tensor_rejected, rounds,
         model_rejected, rounds);
}

/* Real files with 1..4 random bytes overwritten: many still parse, so this drives
 * the reader's own checks rather than protobuf-c's. Whatever is accepted must be
 * consistent (and walkable, for models); nothing may crash (run under ASan). */
static void test_mutated(void) {
  char src[512];
  int accepted_t = 0, accepted_m = 0;
  const int rounds = 400;
  snprintf(src, sizeof src, "%s/node/test_qlinearconv/test_data_set_0/input_0.pb",
           QB_ONNX_TESTDATA);
  size_t n = 0, nm = 0;
  uint8_t* orig = slurp(src, &n);
  snprintf(src, sizeof src, "%s/node/test_convinteger_with_padding/model.onnx", QB_ONNX_TESTDATA);
  uint8_t* orig_m = slurp(src, &nm);
  if (!orig || !orig_m) {
    printf("  (no ONNX test data: mutation test skipped)\n");
    free(orig);
    free(orig_m);
    return;
  }
  uint8_t* b = malloc(n > nm ? n : nm);
  for (int r = 0; r < rounds; r++) {
    memcpy(b, orig, n);
    for (int k = 1 + (int)qb_rand_below(4); k > 0; k--) b[qb_rand_below((uint32_t)n)] = (uint8_t)qb_rand_u64();
    qb_tensor t;
    qb_error err;
    if (qb_onnx_tensor_parse(b, n, "<mutated>", &t, NULL, 0, &err) == 0) {
      accepted_t++;
      QB_CHECK(qb_tensor_numel(&t) <= n * 8);
      qb_tensor_free(&t);
    }
    memcpy(b, orig_m, nm);
    for (int k = 1 + (int)qb_rand_below(4); k > 0; k--) b[qb_rand_below((uint32_t)nm)] = (uint8_t)qb_rand_u64();
    qb_onnx_model m;
    if (qb_onnx_model_parse(b, nm, "<mutated>", &m, &err) == 0) {
      accepted_m++;
      int64_t v[8];
      size_t count;
      char s[32];
      for (size_t i = 0; i < m.graph->n_node; i++) {
        const Onnx__NodeProto* nd = m.graph->node[i];
        (void)qb_onnx_attr_ints(nd, "pads", NULL, 0, v, 8, &count, &err);
        (void)qb_onnx_attr_int(nd, "group", 1, v, &err);
        (void)qb_onnx_attr_string(nd, "auto_pad", "NOTSET", s, sizeof s, &err);
        (void)qb_onnx_node_str(nd, s, sizeof s);
        for (size_t j = 0; j < nd->n_input + 1; j++) (void)qb_onnx_node_input(nd, j);
      }
      for (size_t i = 0; i < m.graph->n_initializer; i++)
        if (qb_onnx_tensor_from_proto(m.graph->initializer[i], &t, &err) == 0) qb_tensor_free(&t);
      qb_onnx_model_free(&m);
    }
  }
  printf("  mutated files: %d/%d tensors and %d/%d models still accepted, no crash\n",
         accepted_t, rounds, accepted_m, rounds);
  free(b);
  free(orig);
  free(orig_m);
}

static void test_bad_tensors(void) {
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[9] = {2, 3};
  float payload[6] = {0};
  tp.name = "t";
  tp.has_data_type = 1;
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tp.n_dims = 2;
  tp.dims = dims;
  tp.has_raw_data = 1;
  tp.raw_data.data = (uint8_t*)payload;

  tp.raw_data.len = 20; /* 6 floats need 24 */
  expect_reject(&tp, "raw_data has 20 bytes", "raw_data too short");
  tp.raw_data.len = 24;
  dims[1] = 4;
  expect_reject(&tp, "needs 32", "raw_data vs larger dims");
  dims[1] = -3;
  expect_reject(&tp, "negative", "negative dim");
  dims[0] = (int64_t)1 << 20, dims[1] = (int64_t)1 << 20;
  expect_reject(&tp, "2^31", "huge dims (product)");
  dims[0] = INT64_MAX, dims[1] = 2;
  expect_reject(&tp, "2^31", "huge dim (INT64_MAX)");
  dims[0] = 0, dims[1] = INT64_MAX; /* zero elements, but a dim beyond the limit */
  expect_reject(&tp, "2^31", "huge dim after a zero");
  for (int i = 0; i < 9; i++) dims[i] = 1;
  tp.n_dims = 9;
  tp.raw_data.len = 4;
  expect_reject(&tp, "at most 8", "9 dims");
  tp.n_dims = 2, dims[0] = 2, dims[1] = 3, tp.raw_data.len = 24;

  /* Unsupported / unknown / missing element types. */
  tp.has_raw_data = 0;
  ProtobufCBinaryData strings[6];
  for (int i = 0; i < 6; i++) strings[i].data = (uint8_t*)"ab", strings[i].len = 2;
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__STRING;
  tp.n_string_data = 6;
  tp.string_data = strings;
  expect_reject(&tp, "STRING is not supported", "STRING tensor");
  tp.n_string_data = 0;
  tp.has_raw_data = 1;
  tp.raw_data.len = 12;
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
  expect_reject(&tp, "FLOAT16 is not supported", "FLOAT16 tensor");
  tp.raw_data.len = 6;
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
  expect_reject(&tp, "BOOL is not supported", "BOOL tensor");
  tp.data_type = 99;
  expect_reject(&tp, "unknown data_type 99", "data_type 99");
  tp.has_data_type = 0;
  expect_reject(&tp, "UNDEFINED", "data_type unset");
  tp.has_data_type = 1;

  /* External data. */
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tp.has_raw_data = 0;
  Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
  Onnx__StringStringEntryProto* entries[1] = {&loc};
  loc.key = "location";
  loc.value = "weights.bin";
  tp.has_data_location = 1;
  tp.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  tp.n_external_data = 1;
  tp.external_data = entries;
  expect_reject(&tp, "external data ('weights.bin') is not supported yet", "external data");
  tp.n_external_data = 0;
  expect_reject(&tp, "not supported yet", "EXTERNAL, no entries");
  tp.has_data_location = 0;

  /* Payload in the wrong field, in two fields, of the wrong count, or missing. */
  int32_t ints[6] = {0, 1, 2, 3, 4, 300};
  tp.n_int32_data = 6;
  tp.int32_data = ints;
  expect_reject(&tp, "FLOAT tensor stores its values in int32_data", "FLOAT in int32_data");
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
  expect_reject(&tp, "int32_data[5] = 300 is outside", "uint8 value 300");
  tp.has_raw_data = 1;
  tp.raw_data.len = 6;
  expect_reject(&tp, "both raw_data and int32_data", "raw_data + int32_data");
  tp.has_raw_data = 0;
  tp.n_float_data = 6;
  tp.float_data = payload;
  expect_reject(&tp, "both float_data and int32_data", "int32_data + float_data");
  tp.n_int32_data = 0;
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tp.n_float_data = 5;
  expect_reject(&tp, "float_data has 5 values", "float_data count 5 of 6");
  tp.n_float_data = 0;
  expect_reject(&tp, "no data", "no payload");
}

static void test_good_tensors(void) {
  qb_tensor t;
  qb_error err;
  char name[64];
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[2] = {2, 3};
  tp.has_data_type = 1;
  tp.dims = dims;

  /* raw_data float, little-endian bytes written out explicitly. */
  const float fv[6] = {1.5f, -2.25f, 0.0f, 3.0e-38f, 65504.0f, -0.0f};
  uint8_t raw[24];
  for (int i = 0; i < 6; i++) {
    uint32_t bits;
    memcpy(&bits, &fv[i], 4);
    for (int b = 0; b < 4; b++) raw[i * 4 + b] = (uint8_t)(bits >> (8 * b));
  }
  tp.name = "weights";
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tp.n_dims = 2;
  tp.has_raw_data = 1;
  tp.raw_data.data = raw;
  tp.raw_data.len = sizeof raw;
  QB_CHECK_MSG(pack_and_read(&tp, &t, name, sizeof name, &err) == 0, "%s", err.msg);
  QB_CHECK(strcmp(name, "weights") == 0);
  QB_CHECK(t.dtype == QB_F32 && t.ndim == 2 && t.dims[0] == 2 && t.dims[1] == 3);
  for (int i = 0; i < 6; i++) QB_CHECK_EQ_F32(((float*)t.data)[i], fv[i]);
  qb_tensor_free(&t);
  /* A name that does not fit is an error, not a silent truncation. */
  QB_CHECK(pack_and_read(&tp, &t, name, 4, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "does not fit") != NULL, "%s", err.msg);
  /* The same proto converted directly. */
  QB_CHECK_MSG(qb_onnx_tensor_from_proto(&tp, &t, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_F32(((float*)t.data)[1], -2.25f);
  qb_tensor_free(&t);
  tp.has_raw_data = 0;
  tp.name = NULL;

  /* float_data */
  float fd[4] = {0.5f, -1.0f, 1e30f, 7.0f};
  dims[0] = 4;
  tp.n_dims = 1;
  tp.n_float_data = 4;
  tp.float_data = fd;
  QB_CHECK_MSG(pack_and_read(&tp, &t, name, sizeof name, &err) == 0, "%s", err.msg);
  QB_CHECK(name[0] == 0);
  QB_CHECK(t.dtype == QB_F32 && t.ndim == 1 && t.dims[0] == 4);
  for (int i = 0; i < 4; i++) QB_CHECK_EQ_F32(((float*)t.data)[i], fd[i]);
  qb_tensor_free(&t);
  tp.n_float_data = 0;

  /* double_data */
  double dd[4] = {0.1, -2.5, 1e300, 3.0};
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
  tp.n_double_data = 4;
  tp.double_data = dd;
  QB_CHECK_MSG(pack_and_read(&tp, &t, NULL, 0, &err) == 0, "%s", err.msg);
  QB_CHECK(t.dtype == QB_F64 && memcmp(t.data, dd, sizeof dd) == 0);
  qb_tensor_free(&t);
  tp.n_double_data = 0;

  /* int32_data holding uint8, then int8 */
  int32_t iv[3] = {0, 128, 255};
  dims[0] = 3;
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
  tp.n_int32_data = 3;
  tp.int32_data = iv;
  QB_CHECK_MSG(pack_and_read(&tp, &t, NULL, 0, &err) == 0, "%s", err.msg);
  QB_CHECK(t.dtype == QB_U8 && t.dims[0] == 3);
  QB_CHECK_EQ_INT(((uint8_t*)t.data)[0], 0);
  QB_CHECK_EQ_INT(((uint8_t*)t.data)[1], 128);
  QB_CHECK_EQ_INT(((uint8_t*)t.data)[2], 255);
  qb_tensor_free(&t);
  int32_t sv[3] = {-128, -1, 127};
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
  tp.int32_data = sv;
  QB_CHECK_MSG(pack_and_read(&tp, &t, NULL, 0, &err) == 0, "%s", err.msg);
  QB_CHECK(t.dtype == QB_I8);
  QB_CHECK_EQ_INT(((int8_t*)t.data)[0], -128);
  QB_CHECK_EQ_INT(((int8_t*)t.data)[1], -1);
  QB_CHECK_EQ_INT(((int8_t*)t.data)[2], 127);
  qb_tensor_free(&t);
  tp.n_int32_data = 0;

  /* raw int16, little-endian */
  const uint8_t raw16[6] = {0x01, 0x80, 0xff, 0xff, 0x34, 0x12};
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT16;
  tp.has_raw_data = 1;
  tp.raw_data.data = (uint8_t*)raw16;
  tp.raw_data.len = sizeof raw16;
  QB_CHECK_MSG(pack_and_read(&tp, &t, NULL, 0, &err) == 0, "%s", err.msg);
  QB_CHECK(t.dtype == QB_I16);
  QB_CHECK_EQ_INT(((int16_t*)t.data)[0], -32767);
  QB_CHECK_EQ_INT(((int16_t*)t.data)[1], -1);
  QB_CHECK_EQ_INT(((int16_t*)t.data)[2], 0x1234);
  qb_tensor_free(&t);
  tp.has_raw_data = 0;

  /* int64_data */
  int64_t lv[2] = {INT64_MIN, (int64_t)1 << 40};
  dims[0] = 2;
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  tp.n_int64_data = 2;
  tp.int64_data = lv;
  QB_CHECK_MSG(pack_and_read(&tp, &t, NULL, 0, &err) == 0, "%s", err.msg);
  QB_CHECK(t.dtype == QB_I64 && memcmp(t.data, lv, sizeof lv) == 0);
  qb_tensor_free(&t);
  tp.n_int64_data = 0;

  /* scalar: no dims, one element */
  float one = 0.25f;
  tp.n_dims = 0;
  tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tp.n_float_data = 1;
  tp.float_data = &one;
  QB_CHECK_MSG(pack_and_read(&tp, &t, NULL, 0, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(t.ndim, 0);
  QB_CHECK_EQ_INT(qb_tensor_numel(&t), 1);
  QB_CHECK_EQ_F32(*(float*)t.data, 0.25f);
  qb_tensor_free(&t);
  tp.n_float_data = 0;

  /* zero-size tensor: dims [0, 3], no payload */
  dims[0] = 0, dims[1] = 3;
  tp.n_dims = 2;
  QB_CHECK_MSG(pack_and_read(&tp, &t, NULL, 0, &err) == 0, "%s", err.msg);
  QB_CHECK(t.ndim == 2 && t.dims[0] == 0 && t.dims[1] == 3 && qb_tensor_numel(&t) == 0);
  qb_tensor_free(&t);

  /* A real test-data file. */
  char path[512];
  snprintf(path, sizeof path, "%s/node/test_qlinearconv/test_data_set_0/input_0.pb",
           QB_ONNX_TESTDATA);
  if (access(path, R_OK) == 0) {
    QB_CHECK_MSG(qb_onnx_tensor_read(path, &t, name, sizeof name, &err) == 0, "%s", err.msg);
    QB_CHECK(strcmp(name, "x") == 0);
    QB_CHECK(t.dtype == QB_U8 && t.ndim == 4 && t.dims[2] == 7 && t.dims[3] == 7);
    QB_CHECK_EQ_INT(((uint8_t*)t.data)[0], 255);
    QB_CHECK_EQ_INT(((uint8_t*)t.data)[48], 247);
    qb_tensor_free(&t);
  }
}

/* A model built with the protobuf-c API: one node with attributes of each kind, an
 * initializer, an omitted optional input. */
static void test_built_model(void) {
  Onnx__AttributeProto a_int = ONNX__ATTRIBUTE_PROTO__INIT, a_ints = ONNX__ATTRIBUTE_PROTO__INIT;
  Onnx__AttributeProto a_f = ONNX__ATTRIBUTE_PROTO__INIT, a_s = ONNX__ATTRIBUTE_PROTO__INIT;
  Onnx__AttributeProto a_untyped = ONNX__ATTRIBUTE_PROTO__INIT;
  int64_t pads[4] = {1, 2, 3, 4};
  a_int.name = "group", a_int.has_type = 1, a_int.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  a_int.has_i = 1, a_int.i = 3;
  a_ints.name = "pads", a_ints.has_type = 1, a_ints.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  a_ints.n_ints = 4, a_ints.ints = pads;
  a_f.name = "alpha", a_f.has_type = 1, a_f.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  a_f.has_f = 1, a_f.f = 0.125f;
  a_s.name = "auto_pad", a_s.has_type = 1, a_s.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  a_s.has_s = 1, a_s.s.data = (uint8_t*)"SAME_UPPER", a_s.s.len = 10;
  a_untyped.name = "axis", a_untyped.has_i = 1, a_untyped.i = -1; /* old exporters: no type */
  Onnx__AttributeProto* attrs[5] = {&a_int, &a_ints, &a_f, &a_s, &a_untyped};
  char* ins[3] = {"x", "", "w"};
  char* outs[1] = {"y"};
  Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
  node.name = "conv1", node.op_type = "Conv";
  node.n_input = 3, node.input = ins, node.n_output = 1, node.output = outs;
  node.n_attribute = 5, node.attribute = attrs;
  Onnx__NodeProto* nodes[1] = {&node};
  Onnx__TensorProto w = ONNX__TENSOR_PROTO__INIT;
  int64_t wdims[1] = {2};
  int32_t wv[2] = {-5, 7};
  w.name = "w", w.has_data_type = 1, w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
  w.n_dims = 1, w.dims = wdims, w.n_int32_data = 2, w.int32_data = wv;
  Onnx__TensorProto bad = ONNX__TENSOR_PROTO__INIT;
  bad.name = "bad", bad.has_data_type = 1, bad.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__STRING;
  Onnx__TensorProto* inits[2] = {&w, &bad};
  Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
  g.name = "g", g.n_node = 1, g.node = nodes, g.n_initializer = 2, g.initializer = inits;
  Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  opset.domain = "", opset.has_version = 1, opset.version = 13;
  Onnx__OperatorSetIdProto* opsets[1] = {&opset};
  Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
  mp.has_ir_version = 1, mp.ir_version = 8, mp.graph = &g;
  mp.n_opset_import = 1, mp.opset_import = opsets;

  const size_t n = onnx__model_proto__get_packed_size(&mp);
  uint8_t* buf = malloc(n);
  QB_CHECK_EQ_INT(onnx__model_proto__pack(&mp, buf), n);
  char path[256];
  tmp_path(path, sizeof path, "model.onnx");
  write_bytes(path, buf, n);

  qb_onnx_model m;
  qb_error err;
  QB_CHECK_MSG(qb_onnx_model_read(path, &m, &err) == 0, "%s", err.msg);
  if (!m.proto) {
    free(buf);
    return;
  }
  QB_CHECK_EQ_INT(qb_onnx_model_opset(&m, ""), 13);
  QB_CHECK_EQ_INT(qb_onnx_model_opset(&m, "ai.onnx"), 13);
  QB_CHECK_EQ_INT(qb_onnx_model_opset(&m, "com.microsoft"), -1);
  QB_CHECK_EQ_INT(m.graph->n_node, 1);
  const Onnx__NodeProto* nd = m.graph->node[0];
  QB_CHECK(strcmp(qb_onnx_node_input(nd, 0), "x") == 0);
  QB_CHECK(qb_onnx_node_input(nd, 1) == NULL); /* omitted optional input */
  QB_CHECK(strcmp(qb_onnx_node_input(nd, 2), "w") == 0);
  QB_CHECK(qb_onnx_node_input(nd, 3) == NULL);
  QB_CHECK(strcmp(qb_onnx_node_output(nd, 0), "y") == 0);

  int64_t i64;
  float f;
  char s[16];
  int64_t v[8];
  size_t count;
  QB_CHECK(qb_onnx_attr_int(nd, "group", 1, &i64, &err) == 0 && i64 == 3);
  QB_CHECK(qb_onnx_attr_int(nd, "missing", 42, &i64, &err) == 0 && i64 == 42);
  QB_CHECK(qb_onnx_attr_int(nd, "axis", 1, &i64, &err) == 0 && i64 == -1);
  QB_CHECK(qb_onnx_attr_float(nd, "alpha", 1.0f, &f, &err) == 0 && f == 0.125f);
  QB_CHECK(qb_onnx_attr_float(nd, "beta", 2.0f, &f, &err) == 0 && f == 2.0f);
  QB_CHECK(qb_onnx_attr_string(nd, "auto_pad", "NOTSET", s, sizeof s, &err) == 0 &&
           strcmp(s, "SAME_UPPER") == 0);
  QB_CHECK(qb_onnx_attr_string(nd, "mode", "NOTSET", s, sizeof s, &err) == 0 &&
           strcmp(s, "NOTSET") == 0);
  QB_CHECK(qb_onnx_attr_string(nd, "auto_pad", NULL, s, 5, &err) == -1);
  QB_CHECK(qb_onnx_attr_ints(nd, "pads", NULL, 0, v, 8, &count, &err) == 0 && count == 4 &&
           v[0] == 1 && v[3] == 4);
  QB_CHECK(qb_onnx_attr_ints(nd, "pads", NULL, 0, v, 3, &count, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "4 values") != NULL, "%s", err.msg);
  const int64_t ones[2] = {1, 1};
  QB_CHECK(qb_onnx_attr_ints(nd, "strides", ones, 2, v, 8, &count, &err) == 0 && count == 2 &&
           v[0] == 1 && v[1] == 1);
  /* Type mismatches are errors naming the node and both types. */
  QB_CHECK(qb_onnx_attr_int(nd, "pads", 0, &i64, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "node 'conv1' (Conv): attribute 'pads' is INTS, expected INT"),
               "%s", err.msg);
  QB_CHECK(qb_onnx_attr_float(nd, "group", 0, &f, &err) == -1);
  QB_CHECK(qb_onnx_attr_ints(nd, "axis", NULL, 0, v, 8, &count, &err) == -1);
  printf("  attribute type mismatch: %s\n", err.msg);

  qb_tensor t;
  QB_CHECK(qb_onnx_find_initializer(m.graph, "w") != NULL);
  QB_CHECK(qb_onnx_find_initializer(m.graph, "x") == NULL);
  QB_CHECK_MSG(qb_onnx_initializer(m.graph, "w", &t, &err) == 0, "%s", err.msg);
  QB_CHECK(t.dtype == QB_I8 && t.dims[0] == 2);
  QB_CHECK(((int8_t*)t.data)[0] == -5 && ((int8_t*)t.data)[1] == 7);
  qb_tensor_free(&t);
  QB_CHECK(qb_onnx_initializer(m.graph, "nope", &t, &err) == -1);
  QB_CHECK(qb_onnx_initializer(m.graph, "bad", &t, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "tensor 'bad'") && strstr(err.msg, "STRING"), "%s", err.msg);
  qb_onnx_model_free(&m);
  qb_onnx_model_free(&m); /* idempotent */

  /* Every strict prefix of the model is rejected or, if it parses, is walkable. */
  int rejected = 0;
  for (size_t len = 1; len < n; len++) {
    if (qb_onnx_model_parse(buf, len, "<prefix>", &m, &err) == 0)
      qb_onnx_model_free(&m);
    else
      rejected++;
  }
  printf("  model prefixes: %d of %zu rejected\n", rejected, n - 1);
  QB_CHECK(rejected > 0);

  /* A model without a graph. */
  mp.graph = NULL;
  const size_t n2 = onnx__model_proto__pack(&mp, buf);
  QB_CHECK(qb_onnx_model_parse(buf, n2, "<no graph>", &m, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "no graph") != NULL, "%s", err.msg);
  free(buf);
}

/* The real node-test models read and expose op_type and attributes. */
static void test_real_models(void) {
  char path[512];
  qb_onnx_model m;
  qb_error err;
  snprintf(path, sizeof path, "%s/node/test_convinteger_with_padding/model.onnx",
           QB_ONNX_TESTDATA);
  if (access(path, R_OK) != 0) {
    printf("  (no ONNX test data: real-model checks skipped)\n");
    return;
  }
  QB_CHECK_MSG(qb_onnx_model_read(path, &m, &err) == 0, "%s", err.msg);
  if (!m.proto) return;
  QB_CHECK_EQ_INT(m.graph->n_node, 1);
  const Onnx__NodeProto* nd = m.graph->node[0];
  QB_CHECK(strcmp(nd->op_type, "ConvInteger") == 0);
  int64_t pads[4];
  size_t count;
  QB_CHECK(qb_onnx_attr_ints(nd, "pads", NULL, 0, pads, 4, &count, &err) == 0 && count == 4);
  QB_CHECK(pads[0] == 1 && pads[1] == 1 && pads[2] == 1 && pads[3] == 1);
  QB_CHECK_EQ_INT(qb_onnx_model_opset(&m, NULL), 10);
  qb_onnx_model_free(&m);
  /* A tensor file is not a model with a graph; a model is not a tensor. */
  snprintf(path, sizeof path, "%s/node/test_qlinearconv/test_data_set_0/input_0.pb",
           QB_ONNX_TESTDATA);
  QB_CHECK(qb_onnx_model_read(path, &m, &err) == -1);
  printf("  tensor file read as a model: %s\n", err.msg);
  snprintf(path, sizeof path, "%s/node/test_qlinearconv/model.onnx", QB_ONNX_TESTDATA);
  qb_tensor t;
  QB_CHECK(qb_onnx_tensor_read(path, &t, NULL, 0, &err) == -1);
  printf("  model file read as a tensor: %s\n", err.msg);
}

int main(void) {
  qb_test_seed(20240607);
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  printf("temp dir %s\n", dir);
  test_missing_empty_directory();
  test_truncated("test_qlinearconv/test_data_set_0/input_0.pb");
  test_truncated("test_quantizelinear_axis/test_data_set_0/input_0.pb");
  test_truncated("test_dynamicquantizelinear/test_data_set_0/output_1.pb");
  test_random_bytes();
  test_mutated();
  test_bad_tensors();
  test_good_tensors();
  test_built_model();
  test_real_models();
  /* Clean up the temp dir (only the files this test wrote). */
  static const char* const files[] = {"empty.pb", "text.pb", "truncated.pb", "random.bin",
                                      "built.pb", "model.onnx"};
  char path[256];
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    tmp_path(path, sizeof path, files[i]);
    unlink(path);
  }
  rmdir(dir);
  return qb_test_finish("test_onnx_reader");
}
