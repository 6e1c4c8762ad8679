/* Machine description (harness/sys/qb_machine.h): libcpuid and hwloc views filled,
 * JSON well-formed with the expected keys, fingerprint stable, ISA disagreement
 * hook. No timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_machine.h"
#include "qb_test.h"

/* Braces and brackets balance outside string literals; strings are terminated. */
static int json_balanced(const char* s) {
  int depth = 0, in_str = 0;
  for (const char* p = s; *p; p++) {
    if (in_str) {
      if (*p == '\\' && p[1])
        p++;
      else if (*p == '"')
        in_str = 0;
      continue;
    }
    if (*p == '"') in_str = 1;
    else if (*p == '{' || *p == '[') depth++;
    else if (*p == '}' || *p == ']') {
      if (--depth < 0) return 0;
    }
  }
  return depth == 0 && !in_str;
}

static char* to_string(const qb_machine* m, int json) {
  char* buf = NULL;
  size_t size = 0;
  FILE* f = open_memstream(&buf, &size);
  if (!f) return NULL;
  if (json)
    qb_machine_write_json(m, f);
  else
    qb_machine_write_text(m, f);
  fclose(f);
  return buf;
}

static int is_hex16(const char* s) {
  if (strlen(s) != 16) return 0;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
  return 1;
}

int main(void) {
  qb_machine m;
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_machine_describe(&m, &err) == 0, "%s", err.msg);

  QB_CHECK_MSG(m.hwloc_ok, "%s", m.hwloc_error);
  QB_CHECK(m.pus >= 1);
  QB_CHECK(m.hw_cores >= 1);
  QB_CHECK(m.packages >= 1);
  QB_CHECK(m.online_cpus >= 1);
#if defined(__x86_64__) || defined(__i386__)
  QB_CHECK_MSG(m.cpuid_ok, "%s", m.cpuid_error);
  QB_CHECK(m.vendor[0] != '\0');
  QB_CHECK(m.brand[0] != '\0');
  QB_CHECK(m.ext_family > 0);
  QB_CHECK(m.cores >= 1);
  QB_CHECK(m.logical_cpus >= 1);
#endif
  QB_CHECK(qb_machine_cache_bytes(&m, 1) > 0);
  QB_CHECK(qb_machine_cache_bytes(&m, 2) > 0);
  QB_CHECK(qb_machine_llc_bytes(&m) >= qb_machine_cache_bytes(&m, 2));
  QB_CHECK(qb_machine_core_count(&m) >= 1);
  QB_CHECK(qb_machine_cache_bytes(&m, 0) == 0);
  QB_CHECK(qb_machine_cache_bytes(&m, 6) == 0);

  /* Fingerprint: 16 hex digits, the same on a second description. */
  QB_CHECK_MSG(is_hex16(m.fingerprint), "'%s'", m.fingerprint);
  qb_machine m2;
  QB_CHECK(qb_machine_describe(&m2, &err) == 0);
  QB_CHECK_MSG(strcmp(m.fingerprint, m2.fingerprint) == 0, "%s vs %s", m.fingerprint,
               m2.fingerprint);
  QB_CHECK(strcmp(m.fingerprint_source, m2.fingerprint_source) == 0);

  /* JSON without a CPUID view. */
  char* js = to_string(&m, 1);
  QB_CHECK(js != NULL);
  if (js) {
    QB_CHECK(json_balanced(js));
    QB_CHECK(js[0] == '{');
    static const char* keys[] = {"\"fingerprint\":", "\"fingerprint_source\":", "\"os\":",
                                 "\"online_cpus\":", "\"libcpuid\":", "\"hwloc\":",
                                 "\"caches\":", "\"pus\":", "\"numa_nodes\":",
                                 "\"cpuid\": null", "\"isa_disagreements\": []"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
      QB_CHECK_MSG(strstr(js, keys[i]) != NULL, "missing %s", keys[i]);
#if defined(__x86_64__) || defined(__i386__)
    QB_CHECK(strstr(js, "\"brand\":") != NULL);
    QB_CHECK(strstr(js, "\"ext_model\":") != NULL);
    QB_CHECK(strstr(js, "\"avx512vnni\":") != NULL);
#endif
    QB_CHECK(strstr(js, m.fingerprint) != NULL);
    free(js);
  }

  /* Disagreement hook: same view -> none; one flag flipped -> one sentence. */
  char buf[1024];
  QB_CHECK(qb_machine_isa_disagreements(&m, buf, sizeof buf) == 0); /* no view yet */
  qb_isa_view v = m.libcpuid_isa;
  qb_machine_set_cpuid_view(&m, &v);
  QB_CHECK(qb_machine_isa_disagreements(&m, buf, sizeof buf) == 0);
  QB_CHECK(buf[0] == '\0');
  if (m.cpuid_ok) {
    v.avx512vnni = !v.avx512vnni;
    v.sse41 = !v.sse41;
    qb_machine_set_cpuid_view(&m, &v);
    QB_CHECK_EQ_INT(qb_machine_isa_disagreements(&m, buf, sizeof buf), 2);
    QB_CHECK_MSG(strstr(buf, "AVX-512 VNNI, CPUID says") != NULL, "%s", buf);
    QB_CHECK_MSG(strstr(buf, "SSE4.1") != NULL, "%s", buf);
    if (!m.libcpuid_isa.avx512vnni)
      QB_CHECK_MSG(strstr(buf, "libcpuid says no AVX-512 VNNI, CPUID says yes") != NULL,
                   "%s", buf);
    /* Small buffer: truncated, still terminated, count unchanged. */
    char tiny[8];
    QB_CHECK_EQ_INT(qb_machine_isa_disagreements(&m, tiny, sizeof tiny), 2);
    QB_CHECK(strlen(tiny) < sizeof tiny);
    js = to_string(&m, 1);
    QB_CHECK(js != NULL);
    if (js) {
      QB_CHECK(json_balanced(js));
      QB_CHECK(strstr(js, "\"cpuid\": {") != NULL);
      QB_CHECK(strstr(js, "\"isa_disagreements\": [\"libcpuid says") != NULL);
      free(js);
    }
    char* txt = to_string(&m, 0);
    QB_CHECK(txt && strstr(txt, "WARNING") != NULL);
    free(txt);
  }

  /* Text form names the fingerprint and the cache levels. */
  char* txt = to_string(&m2, 0);
  QB_CHECK(txt != NULL);
  if (txt) {
    QB_CHECK(strstr(txt, m2.fingerprint) != NULL);
    QB_CHECK(strstr(txt, "L1:") != NULL);
    free(txt);
  }

  /* JSON string escaping. */
  char* out = NULL;
  size_t size = 0;
  FILE* f = open_memstream(&out, &size);
  QB_CHECK(f != NULL);
  if (f) {
    qb_json_string(f, "a\"b\\c\nd\x01");
    fclose(f);
    QB_CHECK_MSG(strcmp(out, "\"a\\\"b\\\\c\\nd\\u0001\"") == 0, "%s", out);
    free(out);
  }
  return qb_test_finish("test_machine");
}
