/* Installing model files into the model folder (vigil-model-dir.h): each file
 * is checked first (its format; CLIP weights or MVFA adapters by their tensor
 * shapes, adapters against the CLIP they will run with; which domain adapters
 * are for; a calibration against the weights it was made for), and only when
 * every file passes are they copied in and model.json rewritten. A file that
 * fails is named with what it is, and nothing changes. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VIGIL_MODEL_IMPORT_ERROR (vigil_model_import_error_quark())
GQuark vigil_model_import_error_quark(void);

typedef enum {
  VIGIL_MODEL_IMPORT_ERROR_FILE,   /* not a file Vigil can use, or its shapes are wrong */
  VIGIL_MODEL_IMPORT_ERROR_DOMAIN, /* adapters whose domain cannot be told */
  VIGIL_MODEL_IMPORT_ERROR_MODEL,  /* adapters or a calibration that do not fit the CLIP */
} VigilModelImportError;

/* Imports `files` (NULL-terminated) into `dir` (NULL: the user's model
 * folder). `domain` (may be NULL) is the domain id of the adapters among them;
 * otherwise their file name tells it (MVFA's names: Brain.pth, Liver.pth,
 * Retina_RESC.pth, Chest.pth, Histopathology.pth, or a domain id). Appends a
 * line per installed file to `report`. */
gboolean vigil_model_import(const char *dir, char **files, const char *domain, GString *report,
                            GError **error);

G_END_DECLS
