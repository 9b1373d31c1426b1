#include "vg_cpu_threads.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The lowest logical CPU sharing `cpu`'s core ("0-1", "0,64", "3"), or -1.
 * core_cpus_list is the current name, thread_siblings_list the older one. */
static int first_sibling(const char *sysfs, int cpu) {
  static const char *const names[] = {"core_cpus_list", "thread_siblings_list"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char path[512], line[64];
    snprintf(path, sizeof path, "%s/cpu%d/topology/%s", sysfs, cpu, names[i]);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    char *end;
    const long first = ok ? strtol(line, &end, 10) : -1;
    if (ok && end != line && first >= 0 && first < CPU_SETSIZE)
      return (int)first;
  }
  return -1;
}

int vg_cpu_count_cores(const char *sysfs, const int *cpus, int n) {
  cpu_set_t seen;
  CPU_ZERO(&seen);
  int cores = 0;
  for (int i = 0; i < n; i++) {
    const int core = first_sibling(sysfs, cpus[i]);
    if (core < 0)
      cores++;
    else if (!CPU_ISSET(core, &seen)) {
      CPU_SET(core, &seen);
      cores++;
    }
  }
  return cores > 0 ? cores : 1;
}

int vg_cpu_physical_cores(void) {
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) {
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
  }
  int cpus[CPU_SETSIZE], n = 0;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &mask))
      cpus[n++] = c;
  return vg_cpu_count_cores("/sys/devices/system/cpu", cpus, n);
}
