/* Thread binding through one process-wide hwloc topology. See qb_affinity.h. */
#include "qb_affinity.h"

#include <hwloc.h>
#include <pthread.h>

static hwloc_topology_t g_topo;
static int g_topo_ok;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void load_topology(void) {
  if (hwloc_topology_init(&g_topo) != 0) return;
  if (hwloc_topology_load(g_topo) != 0) {
    hwloc_topology_destroy(g_topo);
    return;
  }
  g_topo_ok = 1;
}

int qb_affinity_core_count(void) {
  pthread_once(&g_once, load_topology);
  if (!g_topo_ok) return 1;
  int n = hwloc_get_nbobjs_by_type(g_topo, HWLOC_OBJ_CORE);
  return n > 0 ? n : 1;
}

int qb_affinity_bind_thread(int slot) {
  pthread_once(&g_once, load_topology);
  if (!g_topo_ok || slot < 0) return -1;
  int cores = hwloc_get_nbobjs_by_type(g_topo, HWLOC_OBJ_CORE);
  int pus = hwloc_get_nbobjs_by_type(g_topo, HWLOC_OBJ_PU);
  hwloc_obj_t obj = NULL;
  if (cores > 0 && slot < cores)
    obj = hwloc_get_obj_by_type(g_topo, HWLOC_OBJ_CORE, (unsigned)slot);
  else if (pus > 0)
    obj = hwloc_get_obj_by_type(g_topo, HWLOC_OBJ_PU, (unsigned)(slot % pus));
  if (!obj || !obj->cpuset) return -1;
  hwloc_bitmap_t set = hwloc_bitmap_dup(obj->cpuset);
  if (!set) return -1;
  hwloc_bitmap_singlify(set); /* one PU: no migration between SMT siblings */
  int rc = hwloc_set_cpubind(g_topo, set, HWLOC_CPUBIND_THREAD);
  hwloc_bitmap_free(set);
  return rc == 0 ? 0 : -1;
}
