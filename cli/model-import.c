/* vigil-cli model import|list: installing model files into the model folder
 * (app/vigil-model-import.h) and saying what it holds. */
#include <stdio.h>

#include "vigil-cli.h"
#include "vigil-domain.h"
#include "vigil-model-dir.h"
#include "vigil-model-import.h"

int vigil_cli_model_import(int argc, char **argv) {
  g_autofree char *domain = NULL, *dir = NULL;
  const GOptionEntry entries[] = {
      {"domain", 0, 0, G_OPTION_ARG_STRING, &domain,
       "Domain of the adapters (brain-mri, liver-ct, retinal-oct, chest-xray, histopathology); "
       "default: from the file name (Brain.pth)",
       "ID"},
      {"dir", 0, 0, G_OPTION_ARG_FILENAME, &dir,
       "Model folder (default $VIGIL_MODEL_DIR, else $XDG_DATA_HOME/vigil/models)", "DIR"},
      {NULL},
  };
  if (!vigil_cli_parse("model import",
                       "check CLIP weights, MVFA adapters and calibrations and install them",
                       entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  if (argc < 2) {
    fprintf(stderr, "vigil-cli model import: name the files to import (FILE...)\n");
    return VIGIL_CLI_USAGE;
  }
  g_autoptr(GString) report = g_string_new(NULL);
  g_autoptr(GError) error = NULL;
  if (!vigil_model_import(dir, argv + 1, domain, report, &error)) {
    fprintf(stderr, "vigil-cli model import: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  fputs(report->str, stdout);
  return VIGIL_CLI_OK;
}

int vigil_cli_model_list(int argc, char **argv) {
  g_autofree char *dir = NULL;
  const GOptionEntry entries[] = {
      {"dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Model folder (default: the user's)", "DIR"},
      {NULL},
  };
  if (!vigil_cli_parse("model list", "what the model folder holds", entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilModelDir) m = vigil_model_dir_open(dir, &error);
  if (!m) {
    fprintf(stderr, "vigil-cli model list: %s\n", error->message);
    return VIGIL_CLI_FAILED;
  }
  g_autofree char *clip = vigil_model_dir_clip(m);
  printf("folder: %s\nclip: %s\n", m->dir, clip ? clip : "(none)");
  for (const VigilDomain *d = vigil_domains(); d->id; d++) {
    g_autofree char *path = vigil_model_dir_adapters(m, d->id);
    printf("%s: %s\n", d->id, path ? path : "(none)");
  }
  return VIGIL_CLI_OK;
}
