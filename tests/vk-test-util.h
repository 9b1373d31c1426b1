/* Setting up and tearing down the Vulkan tests alike. */
#pragma once

#include "vg_backend.h"

/* The Khronos validation layer, unless VIGIL_TEST_NO_VALIDATION=1 (a device
 * run where the layer does not load). */
int vk_test_want_validation(void);
/* The end of a Vulkan test's main(): destroys the backends (either may be
 * NULL) and turns any validation message into a failed run. */
int vk_test_finish(int rc, vg_backend *vk, vg_backend *cpu);
