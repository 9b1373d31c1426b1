/* The model folder: where `vigil-cli model import` installs the CLIP weights,
 * the MVFA adapters per domain and their calibrations, and where the app looks
 * when Preferences name no files. Its index is model.json (docs/MODELS.md):
 *
 *   models/model.json
 *   models/clip.safetensors
 *   models/adapters/<domain>.pth | .safetensors
 *   models/adapters/<domain>.<Class>.<zero|few>-shot.calibration.json
 *
 * model.json: {"format": "vigil-models", "version": 1,
 *   "clip": {"file", "sha256", "source", "description", "random"},
 *   "adapters": {"<domain>": {"file", "sha256", "source", "description"}},
 *   "calibrations": {"<file>": {"domain", "sha256", "source"}}}
 * Paths in it are relative to the folder. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define VIGIL_MODEL_DIR_INDEX "model.json"

typedef struct {
  char *dir;
  JsonObject *root; /* the parsed model.json, or an empty index */
} VigilModelDir;

void vigil_model_dir_free(VigilModelDir *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilModelDir, vigil_model_dir_free)

/* Reads `dir`/model.json (`dir` NULL: vigil_data_model_dir()). A folder with
 * no index is an empty model folder; a malformed index is an error. */
VigilModelDir *vigil_model_dir_open(const char *dir, GError **error);

/* Absolute paths of what the index names, NULL when it names none. */
char *vigil_model_dir_clip(const VigilModelDir *m);
char *vigil_model_dir_adapters(const VigilModelDir *m, const char *domain);

/* A string member of the clip's entry (`domain` NULL) or of `domain`'s
 * adapters ("file", "sha256", ...), NULL when absent. */
const char *vigil_model_dir_get(const VigilModelDir *m, const char *domain, const char *member);
/* The entry object of the clip or of `domain`'s adapters; created if absent. */
JsonObject *vigil_model_dir_entry(VigilModelDir *m, const char *domain);
JsonObject *vigil_model_dir_calibrations(VigilModelDir *m);
/* Writes model.json atomically. */
gboolean vigil_model_dir_save(const VigilModelDir *m, GError **error);

/* The files the app uses when Preferences name none: the settings' own value
 * when set, else the model folder's. For the adapters, `domain` NULL means any. */
char *vigil_model_dir_pick_clip(const char *setting);
char *vigil_model_dir_pick_adapters(GVariant *setting_map, const char *domain);

G_END_DECLS
