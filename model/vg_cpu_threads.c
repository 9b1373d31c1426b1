#include "vg_cpu_threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vg_gemm.h"

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

#ifdef VG_HAVE_OPENMP
#include <omp.h>

/* With oneDNN in the build, the shares run on the calling thread's OpenMP
 * team: the same threads oneDNN's matmuls use, so its workers, spinning
 * after a matmul, never take the cores from ours (two pools on 2 cores halved
 * attention's speed). A smaller team (nested in a parallel region) runs
 * several shares per thread. */
void vg_parallel(int n, void (*fn)(void *ctx, int t, int n), void *ctx) {
  if (n <= 1) {
    fn(ctx, 0, 1);
    return;
  }
#pragma omp parallel num_threads(n)
  {
    const int team = omp_get_num_threads();
    for (int t = omp_get_thread_num(); t < n; t += team)
      fn(ctx, t, n);
  }
}

#else

typedef struct worker {
  pthread_t id;
  void (*fn)(void *ctx, int t, int n);
  void *ctx;
  int t, n;
} worker;

static void *worker_main(void *arg) {
  worker *w = arg;
  w->fn(w->ctx, w->t, w->n);
  return NULL;
}

void vg_parallel(int n, void (*fn)(void *ctx, int t, int n), void *ctx) {
  enum { MAX_THREADS = 256 };
  worker ws[MAX_THREADS];
  n = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
  int started = 1;
  for (int t = 1; t < n; t++) {
    ws[t] = (worker){.fn = fn, .ctx = ctx, .t = t, .n = n};
    if (pthread_create(&ws[t].id, NULL, worker_main, &ws[t]) != 0)
      break;
    started++;
  }
  /* Shares a thread could not be started for run here, in order. */
  for (int t = 0; t < n; t++)
    if (t == 0 || t >= started)
      fn(ctx, t, n);
  for (int t = 1; t < started; t++)
    pthread_join(ws[t].id, NULL);
}

#endif
