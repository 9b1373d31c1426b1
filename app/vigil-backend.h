/* Picks and opens the engine's compute backend for the application. */
#pragma once

#include <glib.h>

#include "vg_backend.h"
#include "vg_vulkan.h"
#include "vigil-precision.h"

G_BEGIN_DECLS

#define VIGIL_BACKEND_ERROR (vigil_backend_error_quark())
GQuark vigil_backend_error_quark(void);

typedef enum {
  VIGIL_BACKEND_ERROR_INVALID,     /* an unknown backend name */
  VIGIL_BACKEND_ERROR_UNAVAILABLE, /* the backend asked for cannot start */
} VigilBackendError;

typedef enum {
  VIGIL_BACKEND_AUTO,
  VIGIL_BACKEND_CPU,
  VIGIL_BACKEND_VULKAN,
} VigilBackendKind;

gboolean vigil_backend_kind_parse(const char *name, VigilBackendKind *kind, GError **error);

typedef struct {
  VigilBackendKind kind;
  const char *device;  /* Vulkan device index or name substring; NULL = best */
  int threads;         /* CPU threads; 0 = one per physical core */
  gboolean validation; /* Vulkan validation layer on */
  /* The transformer blocks' matmuls in F32, F16 or BF16 (vigil-precision.h). */
  VigilPrecision precision;
} VigilBackendOptions;

/* Opens the backend. AUTO runs on the best GPU-type Vulkan device (discrete,
 * integrated, virtual) and otherwise on the CPU backend: a CPU-type Vulkan
 * device (lavapipe) is slower than it and runs only when named (options'
 * device, VIGIL_VK_DEVICE, or VULKAN). Under AUTO a Vulkan device that fails
 * falls back to the CPU; the reason goes to *fallback_reason (g_free it) when
 * that is not NULL. An explicit VULKAN request fails instead of falling back. */
vg_backend *vigil_backend_open(const VigilBackendOptions *options, char **fallback_reason,
                               GError **error);

/* The Vulkan device index AUTO would use, or -1 for the CPU backend, ignoring
 * any named device; *why (if not NULL; g_free it) says what and why, e.g.
 * "the CPU: no GPU; llvmpipe (LLVM 15.0.6, 256 bits) (cpu) runs Vulkan in
 * software, ...". */
int vigil_backend_auto_choice(char **why);
/* The CPU backend's threads when none are asked for: one per physical core
 * this process may run on. */
int vigil_backend_cpu_default_threads(void);

/* What the Vulkan backend knows of each device, in index order (type, F16,
 * cooperative matrices and their shapes, memory; vg_vulkan.h): at most `max`
 * go to devs. Returns how many there are, or -1 with *error set when Vulkan is
 * unavailable. */
int vigil_backend_vulkan_device_info(vg_vk_device_info *devs, int max, GError **error);

/* Names of the Vulkan devices, in index order ("llvmpipe (...) (cpu)"); an
 * empty list when Vulkan is unavailable. Free with g_strfreev. */
char **vigil_backend_list_vulkan_devices(void);

/* Parses a compute-device setting: "auto", "cpu" or "vulkan:N". */
gboolean vigil_backend_options_from_setting(const char *setting, VigilBackendOptions *options,
                                            char **device_out, GError **error);

G_END_DECLS
