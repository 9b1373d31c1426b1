/* Error domains are "vigil-<what>-error-quark": one word each, as GLib's
 * convention has it and as callers compare them in logs and D-Bus errors.
 * clang-format once turned the names into "vigil - engine - error - quark". */
#include <glib.h>
#include <string.h>

#include "vigil-backend.h"
#include "vigil-dicom-send.h"
#include "vigil-engine.h"
#include "vigil-model-import.h"
#include "vigil-report.h"
#include "vigil-scan-error.h"
#include "vigil-session.h"

static void check(GQuark quark, const char *want) {
  const char *name = g_quark_to_string(quark);
  g_assert_cmpstr(name, ==, want);
  g_assert_null(strchr(name, ' '));
}

static void test_names(void) {
  check(VIGIL_BACKEND_ERROR, "vigil-backend-error-quark");
  check(VIGIL_ENGINE_ERROR, "vigil-engine-error-quark");
  check(VIGIL_MODEL_IMPORT_ERROR, "vigil-model-import-error-quark");
  check(VIGIL_REPORT_ERROR, "vigil-report-error-quark");
  check(VIGIL_PACS_ERROR, "vigil-pacs-error-quark");
  check(VIGIL_SCAN_ERROR, "vigil-scan-error-quark");
  check(VIGIL_SESSION_ERROR, "vigil-session-error-quark");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/error-domains/names", test_names);
  return g_test_run();
}
