/* See vk-test-util.h. */
#include "vk-test-util.h"

#include <glib.h>

#include "vg_vulkan.h"

int vk_test_want_validation(void) {
  return g_strcmp0(g_getenv("VIGIL_TEST_NO_VALIDATION"), "1") != 0;
}

int vk_test_finish(int rc, vg_backend *vk, vg_backend *cpu) {
  const int messages = vk ? vg_vulkan_validation_messages(vk) : 0;
  vg_backend_destroy(vk);
  vg_backend_destroy(cpu);
  if (messages) {
    g_printerr("%d validation messages\n", messages);
    return 1;
  }
  return rc;
}
