#include <glib/gi18n.h>
#include <locale.h>

#include <unistd.h>

#include "vigil-application.h"
#include "vigil-job.h"

int main(int argc, char **argv) {
  setlocale(LC_ALL, "");
  VigilApplication *app = vigil_application_new();
  int status = g_application_run(G_APPLICATION(app), argc, argv);
  g_object_unref(app);
  /* Workers still indexing or analysing are told to stop; one that cannot
   * stop in time must not meet library destructors at exit. */
  if (!vigil_job_shutdown(5000)) {
    g_printerr("vigil: background work did not stop in 5 s; leaving without cleanup\n");
    fflush(NULL);
    _exit(status);
  }
  return status;
}
