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
  /* Closing cancelled the jobs; a worker still inside a scan or a forward
   * would crash in the libraries' exit handlers (DCMTK's dictionary goes
   * away under it), so give them a moment, then leave without those. */
  if (!vigil_job_wait_all(3 * G_USEC_PER_SEC)) {
    g_printerr("vigil: work still running at exit; leaving without waiting for it\n");
    _exit(status);
  }
  return status;
}
