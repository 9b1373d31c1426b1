#include <glib/gi18n.h>
#include <locale.h>

#include "vigil-application.h"

int main(int argc, char **argv) {
  setlocale(LC_ALL, "");
  g_autoptr(VigilApplication) app = vigil_application_new();
  return g_application_run(G_APPLICATION(app), argc, argv);
}
