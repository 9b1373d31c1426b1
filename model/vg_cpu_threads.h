/* How many threads the CPU backend runs by default: one per physical core. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* Physical cores among the CPUs this process may run on (its affinity mask):
 * hyper-thread siblings share the FMA units the GEMM keeps busy, so a second
 * thread per core only adds contention. At least 1. */
int vg_cpu_physical_cores(void);
/* The same over the given logical CPUs, reading `sysfs`/cpuN/topology (a
 * CPU whose topology cannot be read counts as a core of its own). */
int vg_cpu_count_cores(const char *sysfs, const int *cpus, int n);

#ifdef __cplusplus
}
#endif
