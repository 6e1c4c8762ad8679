/* Machine description from libcpuid, hwloc and the OS. See qb_machine.h. */
#include "qb_machine.h"

#include <ctype.h>
#include <hwloc.h>
#include <inttypes.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifdef QB_HAVE_LIBCPUID /* set by CMake when libcpuid is found (x86) */
#include <libcpuid.h>
#include "qb_hash.h"
#endif

static void copy_trimmed(char* dst, size_t size, const char* src) {
  while (*src && isspace((unsigned char)*src)) src++;
  size_t n = strlen(src);
  while (n > 0 && isspace((unsigned char)src[n - 1])) n--;
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* ---- libcpuid ------------------------------------------------------------------ */

static void describe_libcpuid(qb_machine* m) {
#ifdef QB_HAVE_LIBCPUID
  snprintf(m->cpuid_version, sizeof m->cpuid_version, "%s", cpuid_lib_version());
  if (!cpuid_present()) {
    snprintf(m->cpuid_error, sizeof m->cpuid_error, "libcpuid: no CPUID instruction");
    return;
  }
  struct cpu_raw_data_t raw;
  struct cpu_id_t id;
  if (cpuid_get_raw_data(&raw) < 0 || cpu_identify(&raw, &id) < 0) {
    snprintf(m->cpuid_error, sizeof m->cpuid_error, "libcpuid: %s", cpuid_error());
    return;
  }
  m->cpuid_ok = true;
  copy_trimmed(m->vendor, sizeof m->vendor, id.vendor_str);
  copy_trimmed(m->brand, sizeof m->brand, id.brand_str);
  copy_trimmed(m->codename, sizeof m->codename, id.cpu_codename);
  m->family = id.family;
  m->model = id.model;
  m->stepping = id.stepping;
  m->ext_family = id.ext_family;
  m->ext_model = id.ext_model;
  m->cores = id.num_cores;
  m->logical_cpus = id.num_logical_cpus;
  m->total_logical_cpus = id.total_logical_cpus;
  /* Sizes in KB; -1 means "could not determine". */
  m->l1d_bytes = id.l1_data_cache > 0 ? (int64_t)id.l1_data_cache * 1024 : 0;
  m->l2_bytes = id.l2_cache > 0 ? (int64_t)id.l2_cache * 1024 : 0;
  m->l3_bytes = id.l3_cache > 0 ? (int64_t)id.l3_cache * 1024 : 0;
  m->libcpuid_isa.sse41 = id.flags[CPU_FEATURE_SSE4_1] != 0;
  m->libcpuid_isa.avx2 = id.flags[CPU_FEATURE_AVX2] != 0;
  m->libcpuid_isa.fma = id.flags[CPU_FEATURE_FMA3] != 0;
  m->libcpuid_isa.avx512f = id.flags[CPU_FEATURE_AVX512F] != 0;
  m->libcpuid_isa.avx512bw = id.flags[CPU_FEATURE_AVX512BW] != 0;
  m->libcpuid_isa.avx512vl = id.flags[CPU_FEATURE_AVX512VL] != 0;
  m->libcpuid_isa.avx512vnni = id.flags[CPU_FEATURE_AVX512VNNI] != 0;
#else
  snprintf(m->cpuid_error, sizeof m->cpuid_error,
           "libcpuid: not built in (not found at configure time)");
#endif
}

/* ---- hwloc --------------------------------------------------------------------- */

static void describe_hwloc(qb_machine* m) {
  unsigned v = hwloc_get_api_version();
  snprintf(m->hwloc_version, sizeof m->hwloc_version, "%u.%u.%u", v >> 16, (v >> 8) & 0xff,
           v & 0xff);
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) {
    snprintf(m->hwloc_error, sizeof m->hwloc_error, "hwloc: topology init failed");
    return;
  }
  if (hwloc_topology_load(topo) != 0) {
    snprintf(m->hwloc_error, sizeof m->hwloc_error, "hwloc: topology load failed");
    hwloc_topology_destroy(topo);
    return;
  }
  m->hwloc_ok = true;
  int n;
  n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
  m->packages = n > 0 ? n : 0;
  n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  m->hw_cores = n > 0 ? n : 0;
  n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  m->pus = n > 0 ? n : 0;
  n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  m->numa_nodes = n > 0 ? n : 0;
  /* HWLOC_OBJ_L<k>CACHE holds data and unified caches; instruction caches are the
   * separate L<k>ICACHE types and are not counted. */
  static const hwloc_obj_type_t levels[QB_MACHINE_CACHE_LEVELS] = {
      HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L4CACHE,
      HWLOC_OBJ_L5CACHE};
  for (int i = 0; i < QB_MACHINE_CACHE_LEVELS; i++) {
    int count = hwloc_get_nbobjs_by_type(topo, levels[i]);
    if (count <= 0) continue;
    hwloc_obj_t c = hwloc_get_obj_by_type(topo, levels[i], 0);
    if (!c || !c->attr) continue;
    m->cache_bytes[i] = (int64_t)c->attr->cache.size;
    m->cache_line[i] = (int)c->attr->cache.linesize;
    m->cache_count[i] = count;
  }
  hwloc_obj_t root = hwloc_get_root_obj(topo);
  m->memory_bytes = root ? (int64_t)root->total_memory : 0;
  hwloc_topology_destroy(topo);
}

/* ---- fingerprint ----------------------------------------------------------------- */

int64_t qb_machine_cache_bytes(const qb_machine* m, int level) {
  if (level < 1 || level > QB_MACHINE_CACHE_LEVELS) return 0;
  if (m->hwloc_ok && m->cache_bytes[level - 1] > 0) return m->cache_bytes[level - 1];
  if (!m->cpuid_ok) return 0;
  switch (level) {
    case 1: return m->l1d_bytes;
    case 2: return m->l2_bytes;
    case 3: return m->l3_bytes;
    default: return 0;
  }
}

int64_t qb_machine_llc_bytes(const qb_machine* m) {
  for (int level = QB_MACHINE_CACHE_LEVELS; level >= 1; level--) {
    int64_t b = qb_machine_cache_bytes(m, level);
    if (b > 0) return b;
  }
  return 0;
}

int qb_machine_core_count(const qb_machine* m) {
  if (m->hwloc_ok && m->hw_cores > 0) return m->hw_cores;
  if (m->cpuid_ok && m->cores > 0) return m->cores;
  return m->online_cpus > 0 ? m->online_cpus : 1;
}

static int pu_count(const qb_machine* m) {
  if (m->hwloc_ok && m->pus > 0) return m->pus;
  if (m->cpuid_ok && m->total_logical_cpus > 0) return m->total_logical_cpus;
  return m->online_cpus > 0 ? m->online_cpus : 1;
}

static void compute_fingerprint(qb_machine* m) {
  /* Version tag first: change it if the recipe changes, so old caches are not
   * mistaken for this machine. */
  snprintf(m->fingerprint_source, sizeof m->fingerprint_source,
           "qbm1|%s|%s|%d|%d|%d|%dc|%dt|L1=%" PRId64 "|L2=%" PRId64 "|L3=%" PRId64,
           m->cpuid_ok ? m->vendor : "?", m->cpuid_ok ? m->brand : "?", m->ext_family,
           m->ext_model, m->stepping, qb_machine_core_count(m), pu_count(m),
           qb_machine_cache_bytes(m, 1), qb_machine_cache_bytes(m, 2),
           qb_machine_cache_bytes(m, 3));
  snprintf(m->fingerprint, sizeof m->fingerprint, "%016" PRIx64,
           qb_fnv1a64_str(m->fingerprint_source));
}

int qb_machine_describe(qb_machine* m, qb_error* err) {
  memset(m, 0, sizeof *m);
  describe_libcpuid(m);
  describe_hwloc(m);
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  m->online_cpus = online > 0 ? (int)online : 0;
  struct utsname u;
  if (uname(&u) == 0)
    snprintf(m->os, sizeof m->os, "%.40s %.60s %.20s", u.sysname, u.release, u.machine);
  compute_fingerprint(m);
  if (!m->cpuid_ok && !m->hwloc_ok) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "cannot describe the machine: %s; %s",
               m->cpuid_error, m->hwloc_error);
    return -1;
  }
  return 0;
}

/* ---- ISA views ------------------------------------------------------------------- */

void qb_machine_set_cpuid_view(qb_machine* m, const qb_isa_view* cpuid) {
  m->have_cpuid_view = cpuid != NULL;
  if (cpuid) m->cpuid_isa = *cpuid;
}

typedef struct {
  const char* key;     /* JSON key */
  const char* display; /* in sentences */
} isa_name;

static const isa_name k_isa_names[] = {
    {"sse41", "SSE4.1"},     {"avx2", "AVX2"},           {"fma", "FMA"},
    {"avx512f", "AVX-512F"}, {"avx512bw", "AVX-512BW"}, {"avx512vl", "AVX-512VL"},
    {"avx512vnni", "AVX-512 VNNI"},
};
enum { QB_ISA_VIEW_FLAGS = sizeof k_isa_names / sizeof k_isa_names[0] };

static void isa_flags(const qb_isa_view* v, bool out[QB_ISA_VIEW_FLAGS]) {
  const bool f[QB_ISA_VIEW_FLAGS] = {v->sse41,    v->avx2,     v->fma,       v->avx512f,
                                     v->avx512bw, v->avx512vl, v->avx512vnni};
  memcpy(out, f, sizeof f);
}

int qb_machine_isa_disagreements(const qb_machine* m, char* buf, size_t size) {
  if (buf && size) buf[0] = '\0';
  if (!m->have_cpuid_view || !m->cpuid_ok) return 0;
  bool a[QB_ISA_VIEW_FLAGS], b[QB_ISA_VIEW_FLAGS];
  isa_flags(&m->libcpuid_isa, a);
  isa_flags(&m->cpuid_isa, b);
  int count = 0;
  size_t used = 0;
  for (int i = 0; i < QB_ISA_VIEW_FLAGS; i++) {
    if (a[i] == b[i]) continue;
    if (buf && used < size) {
      int w = snprintf(buf + used, size - used, "%slibcpuid says %s %s, CPUID says %s",
                       count ? "; " : "", a[i] ? "yes to" : "no", k_isa_names[i].display,
                       b[i] ? "yes" : "no");
      if (w > 0) used += (size_t)w;
    }
    count++;
  }
  return count;
}

/* ---- output ---------------------------------------------------------------------- */

static void write_isa_json(FILE* f, const qb_isa_view* v) {
  bool b[QB_ISA_VIEW_FLAGS];
  isa_flags(v, b);
  fputc('{', f);
  for (int i = 0; i < QB_ISA_VIEW_FLAGS; i++)
    fprintf(f, "%s\"%s\": %s", i ? ", " : "", k_isa_names[i].key, b[i] ? "true" : "false");
  fputc('}', f);
}

void qb_machine_write_json(const qb_machine* m, FILE* f) {
  fputs("{\n  \"fingerprint\": ", f);
  qb_json_string(f, m->fingerprint);
  fputs(",\n  \"fingerprint_source\": ", f);
  qb_json_string(f, m->fingerprint_source);
  fputs(",\n  \"os\": ", f);
  qb_json_string(f, m->os);
  fprintf(f, ",\n  \"online_cpus\": %d,\n", m->online_cpus);

  fprintf(f, "  \"libcpuid\": {\"ok\": %s, \"version\": ", m->cpuid_ok ? "true" : "false");
  qb_json_string(f, m->cpuid_version);
  if (!m->cpuid_ok) {
    fputs(", \"error\": ", f);
    qb_json_string(f, m->cpuid_error);
  } else {
    fputs(",\n    \"vendor\": ", f);
    qb_json_string(f, m->vendor);
    fputs(", \"brand\": ", f);
    qb_json_string(f, m->brand);
    fputs(", \"codename\": ", f);
    qb_json_string(f, m->codename);
    fprintf(f,
            ",\n    \"family\": %d, \"model\": %d, \"stepping\": %d, \"ext_family\": %d, "
            "\"ext_model\": %d,\n    \"cores\": %d, \"logical_cpus\": %d, "
            "\"total_logical_cpus\": %d,\n    \"l1d_bytes\": %" PRId64
            ", \"l2_bytes\": %" PRId64 ", \"l3_bytes\": %" PRId64 ",\n    \"isa\": ",
            m->family, m->model, m->stepping, m->ext_family, m->ext_model, m->cores,
            m->logical_cpus, m->total_logical_cpus, m->l1d_bytes, m->l2_bytes, m->l3_bytes);
    write_isa_json(f, &m->libcpuid_isa);
  }
  fputs("},\n", f);

  fprintf(f, "  \"hwloc\": {\"ok\": %s, \"api_version\": ", m->hwloc_ok ? "true" : "false");
  qb_json_string(f, m->hwloc_version);
  if (!m->hwloc_ok) {
    fputs(", \"error\": ", f);
    qb_json_string(f, m->hwloc_error);
  } else {
    fprintf(f,
            ",\n    \"packages\": %d, \"cores\": %d, \"pus\": %d, \"numa_nodes\": %d, "
            "\"memory_bytes\": %" PRId64 ",\n    \"caches\": [",
            m->packages, m->hw_cores, m->pus, m->numa_nodes, m->memory_bytes);
    int first = 1;
    for (int i = 0; i < QB_MACHINE_CACHE_LEVELS; i++) {
      if (m->cache_bytes[i] <= 0) continue;
      fprintf(f, "%s\n      {\"level\": %d, \"bytes\": %" PRId64 ", \"line\": %d, \"count\": %d}",
              first ? "" : ",", i + 1, m->cache_bytes[i], m->cache_line[i], m->cache_count[i]);
      first = 0;
    }
    fputs("]", f);
  }
  fputs("},\n  \"cpuid\": ", f);
  if (m->have_cpuid_view)
    write_isa_json(f, &m->cpuid_isa);
  else
    fputs("null", f);

  fputs(",\n  \"isa_disagreements\": [", f);
  char buf[1024];
  if (qb_machine_isa_disagreements(m, buf, sizeof buf) > 0) {
    /* One string per disagreement: split the "; "-separated sentence list. */
    const char* p = buf;
    int first = 1;
    while (*p) {
      const char* e = strstr(p, "; ");
      size_t n = e ? (size_t)(e - p) : strlen(p);
      char one[256];
      snprintf(one, sizeof one, "%.*s", (int)n, p);
      fputs(first ? "" : ", ", f);
      qb_json_string(f, one);
      first = 0;
      p += n + (e ? 2 : 0);
    }
  }
  fputs("]\n}", f);
}

static void human_bytes(char* buf, size_t size, int64_t b) {
  if (b <= 0)
    snprintf(buf, size, "?");
  else if (b % (1024 * 1024) == 0)
    snprintf(buf, size, "%" PRId64 " MiB", b / (1024 * 1024));
  else if (b % 1024 == 0)
    snprintf(buf, size, "%" PRId64 " KiB", b / 1024);
  else
    snprintf(buf, size, "%" PRId64 " B", b);
}

void qb_machine_write_text(const qb_machine* m, FILE* f) {
  char a[32], b[32], c[32];
  fprintf(f, "machine     %s  (fingerprint)\n", m->fingerprint);
  fprintf(f, "os          %s, %d online CPUs\n", m->os, m->online_cpus);
  if (m->cpuid_ok) {
    fprintf(f, "cpu         %s, %s\n", m->vendor, m->brand);
    fprintf(f, "            family %d model %d stepping %d (display; base %d/%d), libcpuid "
               "codename \"%s\"\n",
            m->ext_family, m->ext_model, m->stepping, m->family, m->model, m->codename);
    human_bytes(a, sizeof a, m->l1d_bytes);
    human_bytes(b, sizeof b, m->l2_bytes);
    human_bytes(c, sizeof c, m->l3_bytes);
    fprintf(f, "libcpuid %s: %d cores, %d logical (%d total); L1d %s, L2 %s, L3 %s\n",
            m->cpuid_version, m->cores, m->logical_cpus, m->total_logical_cpus, a, b, c);
    const qb_isa_view* v = &m->libcpuid_isa;
    fprintf(f, "            flags: sse4.1=%d avx2=%d fma=%d avx512f=%d avx512bw=%d "
               "avx512vl=%d avx512vnni=%d\n",
            v->sse41, v->avx2, v->fma, v->avx512f, v->avx512bw, v->avx512vl, v->avx512vnni);
  } else {
    fprintf(f, "libcpuid    unavailable: %s\n", m->cpuid_error);
  }
  if (m->hwloc_ok) {
    human_bytes(a, sizeof a, m->memory_bytes);
    fprintf(f, "hwloc (API %s): %d package(s), %d cores, %d PUs, %d NUMA node(s), %s memory\n",
            m->hwloc_version, m->packages, m->hw_cores, m->pus, m->numa_nodes, a);
    for (int i = 0; i < QB_MACHINE_CACHE_LEVELS; i++) {
      if (m->cache_bytes[i] <= 0) continue;
      human_bytes(a, sizeof a, m->cache_bytes[i]);
      fprintf(f, "            L%d: %d x %s, %d-byte lines\n", i + 1, m->cache_count[i], a,
              m->cache_line[i]);
    }
  } else {
    fprintf(f, "hwloc       unavailable: %s\n", m->hwloc_error);
  }
  if (m->have_cpuid_view) {
    const qb_isa_view* v = &m->cpuid_isa;
    fprintf(f, "cpuid       flags: sse4.1=%d avx2=%d fma=%d avx512f=%d avx512bw=%d "
               "avx512vl=%d avx512vnni=%d\n",
            v->sse41, v->avx2, v->fma, v->avx512f, v->avx512bw, v->avx512vl, v->avx512vnni);
    char buf[1024];
    if (qb_machine_isa_disagreements(m, buf, sizeof buf) > 0)
      fprintf(f, "WARNING     %s\n", buf);
  }
}
