#include "vigil-model-import.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vg_clip.h"
#include "vg_weights_io.h"
#include "vigil-calibration.h"
#include "vigil-digest.h"
#include "vigil-domain.h"
#include "vigil-engine.h"
#include "vigil-model-dir.h"

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
G_DEFINE_QUARK(vigil-model-import-error-quark, vigil_model_import_error)
/* clang-format on */

typedef enum { KIND_CLIP, KIND_ADAPTERS, KIND_CALIBRATION } Kind;

typedef struct {
  char *source, *sha256, *dest; /* dest relative to the folder */
  Kind kind;
  const VigilDomain *domain;
  vg_weights *weights;
  VigilCalibration *calibration;
  char *description;
} Item;

static void item_free(Item *it) {
  g_free(it->source), g_free(it->sha256), g_free(it->dest), g_free(it->description);
  vg_weights_free(it->weights);
  if (it->calibration)
    vigil_calibration_free(it->calibration);
  g_free(it);
}

static gboolean fail(GError **error, int code, const char *path, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static gboolean fail(GError **error, int code, const char *path, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, VIGIL_MODEL_IMPORT_ERROR, code, "%s: %s; nothing was imported", path, what);
  return FALSE;
}

/* What a file that is none of Vigil's kinds is, in words ("PNG image"). */
static char *describe_other(const char *path, const guchar *head, gsize n) {
  g_autofree char *type = g_content_type_guess(path, head, n, NULL);
  return g_content_type_get_description(type);
}

static gboolean read_head(const char *path, guchar *head, gsize *n, GError **error) {
  FILE *f = g_fopen(path, "rb");
  if (!f)
    return fail(error, VIGIL_MODEL_IMPORT_ERROR_FILE, path, "cannot open: %s", g_strerror(errno));
  *n = fread(head, 1, *n, f);
  fclose(f);
  return TRUE;
}

/* Opens one file and says which kind it is; adapters are checked later,
 * against the CLIP they will run with. */
static gboolean classify(Item *it, GError **error) {
  guchar head[512];
  gsize n = sizeof head;
  if (!read_head(it->source, head, &n, error))
    return FALSE;
  vg_weights_format format = vg_weights_sniff(head, n);
  if (format != VG_WFMT_UNKNOWN) {
    if (vg_weights_open(it->source, &it->weights) != VG_OK)
      return fail(error, VIGIL_MODEL_IMPORT_ERROR_FILE, it->source, "%s", vg_last_error());
    vg_clip_options o = {0};
    vg_clip_arch a;
    if (vg_clip_detect(it->weights, NULL, &o, &a) == VG_OK) {
      char desc[512];
      vg_clip_arch_describe(&a, desc, sizeof desc);
      const gboolean random = g_strcmp0(vg_weights_meta(it->weights, "vigil.random"), "true") == 0;
      it->kind = KIND_CLIP;
      it->description =
          g_strdup_printf("CLIP weights: %s%s", desc, random ? "; random test weights" : "");
    } else {
      it->kind = KIND_ADAPTERS;
      it->description = g_strdup(vg_last_error()); /* why it is not a CLIP, for later */
    }
    return TRUE;
  }
  if (n > 0 && head[0] == '{') {
    g_autoptr(GError) local = NULL;
    it->calibration = vigil_calibration_load(it->source, NULL, &local);
    if (!it->calibration)
      return fail(error, VIGIL_MODEL_IMPORT_ERROR_FILE, it->source,
                  "a JSON file but not a Vigil calibration (%s)", local->message);
    it->kind = KIND_CALIBRATION;
    return TRUE;
  }
  g_autofree char *what = describe_other(it->source, head, n);
  return fail(error, VIGIL_MODEL_IMPORT_ERROR_FILE, it->source,
              "%s, not CLIP weights, MVFA adapters (safetensors or .pth) or a Vigil calibration",
              what);
}

/* The domain MVFA's file name (Brain.pth) or a domain id (brain-mri.pth) names. */
static const VigilDomain *domain_of_name(const char *path) {
  g_autofree char *base = g_path_get_basename(path);
  char *dot = strchr(base, '.');
  if (dot)
    *dot = '\0';
  for (const VigilDomain *d = vigil_domains(); d->id; d++)
    if (g_ascii_strcasecmp(base, d->checkpoint) == 0 || g_ascii_strcasecmp(base, d->id) == 0)
      return d;
  return NULL;
}

static const VigilDomain *domain_of_class(const char *class_name) {
  for (const VigilDomain *d = vigil_domains(); d->id; d++)
    if (g_strcmp0(d->class_name, class_name) == 0)
      return d;
  return NULL;
}

static gboolean check_adapters(Item *it, const vg_weights *clip, const char *clip_name,
                               const char *domain, GError **error) {
  vg_clip_options o = {0};
  vg_clip_arch a;
  if (!clip)
    return fail(error, VIGIL_MODEL_IMPORT_ERROR_MODEL, it->source,
                "not CLIP weights (%s); as MVFA adapters it needs the CLIP weights: import "
                "them first or together",
                it->description);
  if (vg_clip_detect(clip, it->weights, &o, &a) != VG_OK || a.n_adapters == 0)
    return fail(error, VIGIL_MODEL_IMPORT_ERROR_MODEL, it->source,
                "neither CLIP weights (%s) nor MVFA adapters for the CLIP in %s (%s)",
                it->description, clip_name, vg_last_error());
  it->domain = domain ? vigil_domain_find(domain) : domain_of_name(it->source);
  if (!it->domain)
    return fail(error, VIGIL_MODEL_IMPORT_ERROR_DOMAIN, it->source,
                "MVFA adapters, but for which domain? Name the file as MVFA does (Brain.pth, "
                "Liver.pth, Retina_RESC.pth, Chest.pth, Histopathology.pth) or pass --domain");
  g_free(it->description);
  g_autoptr(GString) blocks = g_string_new(NULL);
  for (int i = 0; i < a.n_adapters; i++)
    g_string_append_printf(blocks, "%s%d", i ? ", " : "", a.adapter_layers[i]);
  it->description = g_strdup_printf("MVFA adapters for %s: %d adapters of width %d after blocks %s",
                                    it->domain->label, a.n_adapters, a.adapter_dim, blocks->str);
  const char *ext = strstr(it->source, ".safetensors") ? "safetensors" : "pth";
  it->dest = g_strdup_printf("adapters/%s.%s", it->domain->id, ext);
  return TRUE;
}

static Item *find_item(GPtrArray *items, Kind kind, const VigilDomain *domain) {
  for (guint i = 0; i < items->len; i++) {
    Item *it = g_ptr_array_index(items, i);
    if (it->kind == kind && (kind != KIND_ADAPTERS || it->domain == domain))
      return it;
  }
  return NULL;
}

/* The calibration must be for a known class and made with exactly the
 * weights it will sit beside (imported now or installed). */
static gboolean check_calibration(Item *it, VigilModelDir *m, GPtrArray *items, GError **error) {
  const VigilCalibration *c = it->calibration;
  it->domain = domain_of_class(c->class_name);
  if (!it->domain)
    return fail(error, VIGIL_MODEL_IMPORT_ERROR_MODEL, it->source,
                "a calibration for class '%s', which no domain uses", c->class_name);
  Item *ad = find_item(items, KIND_ADAPTERS, it->domain), *clip = find_item(items, KIND_CLIP, 0);
  const char *ad_sha = ad ? ad->sha256 : vigil_model_dir_get(m, it->domain->id, "sha256");
  const char *ad_file = ad ? ad->dest : vigil_model_dir_get(m, it->domain->id, "file");
  const char *clip_sha = clip ? clip->sha256 : vigil_model_dir_get(m, NULL, "sha256");
  if (!ad_file || g_strcmp0(ad_sha, c->adapters_sha256) != 0 ||
      g_strcmp0(clip_sha, c->clip_sha256) != 0)
    return fail(error, VIGIL_MODEL_IMPORT_ERROR_MODEL, it->source,
                "a %s calibration made for other weights (CLIP %.12s…, adapters %.12s…) than "
                "the %s model here (CLIP %.12s…, adapters %.12s…)",
                it->domain->label, c->clip_sha256, c->adapters_sha256, it->domain->label,
                clip_sha ? clip_sha : "none", ad_sha ? ad_sha : "none");
  it->dest = vigil_calibration_default_path(ad_file, c->class_name, c->few_shot);
  g_autofree char *desc = vigil_calibration_describe(c);
  it->description = g_strdup_printf("%s calibration: %s", it->domain->label, desc);
  return TRUE;
}

/* A new CLIP must still fit the installed adapters it does not replace. */
static gboolean check_installed_adapters(VigilModelDir *m, GPtrArray *items, Item *clip,
                                         GError **error) {
  for (const VigilDomain *d = vigil_domains(); clip && d->id; d++) {
    g_autofree char *path = vigil_model_dir_adapters(m, d->id);
    vg_weights *ad = NULL;
    if (!path || find_item(items, KIND_ADAPTERS, d) || vg_weights_open(path, &ad) != VG_OK)
      continue;
    vg_clip_options o = {0};
    vg_clip_arch a;
    const vg_status s = vg_clip_detect(clip->weights, ad, &o, &a);
    vg_weights_free(ad);
    if (s != VG_OK)
      return fail(error, VIGIL_MODEL_IMPORT_ERROR_MODEL, clip->source,
                  "CLIP weights that do not fit the installed %s adapters (%s); import adapters "
                  "for them together",
                  d->label, vg_last_error());
  }
  return TRUE;
}

/* Checks every file; on success each item knows its kind, domain, digest and
 * destination. */
static gboolean check_all(VigilModelDir *m, GPtrArray *items, const char *domain, GError **error) {
  Item *clip = NULL;
  for (guint i = 0; i < items->len; i++) {
    Item *it = g_ptr_array_index(items, i);
    if (!classify(it, error))
      return FALSE;
    if (it->kind == KIND_CLIP && clip)
      return fail(error, VIGIL_MODEL_IMPORT_ERROR_FILE, it->source,
                  "a second CLIP weights file (the first: %s)", clip->source);
    if (it->kind == KIND_CLIP) {
      clip = it;
      it->dest = g_strdup(strstr(it->source, ".safetensors") ? "clip.safetensors" : "clip.pth");
    }
  }
  g_autofree char *installed_path = clip ? NULL : vigil_model_dir_clip(m);
  vg_weights *installed = NULL;
  if (installed_path && vg_weights_open(installed_path, &installed) != VG_OK)
    installed = NULL;
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < items->len; i++) {
    Item *it = g_ptr_array_index(items, i);
    if (it->kind == KIND_ADAPTERS) {
      ok = check_adapters(it, clip ? clip->weights : installed,
                          clip ? clip->source : installed_path, domain, error);
      Item *first = ok ? find_item(items, KIND_ADAPTERS, it->domain) : NULL;
      if (first && first != it)
        ok = fail(error, VIGIL_MODEL_IMPORT_ERROR_DOMAIN, it->source,
                  "a second set of %s adapters (the first: %s)", it->domain->label, first->source);
    }
  }
  vg_weights_free(installed);
  if (!ok || !check_installed_adapters(m, items, clip, error))
    return FALSE;
  for (guint i = 0; i < items->len; i++) {
    Item *it = g_ptr_array_index(items, i);
    if (it->kind != KIND_CALIBRATION && !(it->sha256 = vigil_file_sha256(it->source, error)))
      return FALSE;
  }
  for (guint i = 0; i < items->len; i++) {
    Item *it = g_ptr_array_index(items, i);
    if (it->kind == KIND_CALIBRATION && !check_calibration(it, m, items, error))
      return FALSE;
  }
  return TRUE;
}

/* Copies every item beside its destination, then renames them all into
 * place; a copy that fails removes the others. */
static gboolean install(VigilModelDir *m, GPtrArray *items, GError **error) {
  g_autofree char *adapters_dir = g_build_filename(m->dir, "adapters", NULL);
  if (g_mkdir_with_parents(adapters_dir, 0755) != 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create %s: %s",
                adapters_dir, g_strerror(errno));
    return FALSE;
  }
  g_autoptr(GPtrArray) temps = g_ptr_array_new_with_free_func(g_free);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < items->len; i++) {
    Item *it = g_ptr_array_index(items, i);
    char *tmp = g_strdup_printf("%s/%s.import", m->dir, it->dest);
    g_ptr_array_add(temps, tmp);
    g_autoptr(GFile) from = g_file_new_for_path(it->source), to = g_file_new_for_path(tmp);
    ok = g_file_copy(from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error);
  }
  for (guint i = 0; i < temps->len; i++) {
    Item *it = g_ptr_array_index(items, i);
    g_autofree char *dest = g_build_filename(m->dir, it->dest, NULL);
    const char *tmp = g_ptr_array_index(temps, i);
    if (!ok || g_rename(tmp, dest) != 0) {
      if (ok)
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot install %s: %s", dest,
                    g_strerror(errno));
      ok = FALSE;
      g_unlink(tmp);
    }
  }
  return ok;
}

static void record(VigilModelDir *m, const Item *it) {
  JsonObject *entry = it->kind == KIND_CALIBRATION ? json_object_new()
                      : it->kind == KIND_CLIP      ? vigil_model_dir_entry(m, NULL)
                                                   : vigil_model_dir_entry(m, it->domain->id);
  g_autofree char *source = g_path_get_basename(it->source);
  json_object_set_string_member(entry, "file", it->dest);
  json_object_set_string_member(entry, "source", source);
  json_object_set_string_member(entry, "description", it->description);
  if (it->sha256)
    json_object_set_string_member(entry, "sha256", it->sha256);
  if (it->kind == KIND_CLIP)
    json_object_set_boolean_member(entry, "random", strstr(it->description, "random") != NULL);
  if (it->kind == KIND_CALIBRATION) {
    json_object_set_string_member(entry, "domain", it->domain->id);
    json_object_set_object_member(vigil_model_dir_calibrations(m), it->dest, entry);
  }
}

/* New adapters for a domain make its earlier calibrations wrong (they hold
 * the old adapters' digest): they go, unless this import brings them. */
static void drop_calibrations(VigilModelDir *m, GPtrArray *items, const VigilDomain *domain,
                              GString *report) {
  JsonObject *calibrations = vigil_model_dir_calibrations(m);
  g_autoptr(GList) names = json_object_get_members(calibrations);
  for (GList *l = names; l; l = l->next) {
    JsonObject *entry = json_object_get_object_member(calibrations, l->data);
    gboolean imported = FALSE;
    for (guint i = 0; i < items->len; i++) {
      const Item *it = g_ptr_array_index(items, i);
      imported |= it->kind == KIND_CALIBRATION && g_strcmp0(it->dest, l->data) == 0;
    }
    if (imported || g_strcmp0(json_object_get_string_member_with_default(entry, "domain", NULL),
                              domain->id) != 0)
      continue;
    g_autofree char *path = g_build_filename(m->dir, l->data, NULL);
    g_unlink(path);
    g_string_append_printf(report, "%s: removed (made for the %s adapters replaced)\n", path,
                           domain->label);
    json_object_remove_member(calibrations, l->data);
  }
}

gboolean vigil_model_import(const char *dir, char **files, const char *domain, GString *report,
                            GError **error) {
  if (domain && !vigil_domain_find(domain)) {
    g_autoptr(GString) ids = g_string_new(NULL);
    for (const VigilDomain *d = vigil_domains(); d->id; d++)
      g_string_append_printf(ids, "%s%s", ids->len ? ", " : "", d->id);
    g_set_error(error, VIGIL_MODEL_IMPORT_ERROR, VIGIL_MODEL_IMPORT_ERROR_DOMAIN,
                "unknown domain '%s' (one of %s); nothing was imported", domain, ids->str);
    return FALSE;
  }
  g_autoptr(VigilModelDir) m = vigil_model_dir_open(dir, error);
  if (!m)
    return FALSE;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)item_free);
  for (char **f = files; *f; f++) {
    Item *it = g_new0(Item, 1);
    it->source = g_strdup(*f);
    g_ptr_array_add(items, it);
  }
  if (!check_all(m, items, domain, error) || !install(m, items, error))
    return FALSE;
  for (guint i = 0; i < items->len; i++) {
    const Item *it = g_ptr_array_index(items, i);
    g_autofree char *old =
        it->kind == KIND_ADAPTERS ? vigil_model_dir_adapters(m, it->domain->id) : NULL;
    if (old && g_strcmp0(vigil_model_dir_get(m, it->domain->id, "sha256"), it->sha256) != 0)
      drop_calibrations(m, items, it->domain, report);
    record(m, it);
    g_autofree char *dest = g_build_filename(m->dir, it->dest, NULL);
    if (old && g_strcmp0(old, dest) != 0)
      g_unlink(old); /* the domain's adapters were in the other format */
    g_string_append_printf(report, "%s: %s\n  -> %s\n", it->source, it->description, dest);
  }
  return vigil_model_dir_save(m, error);
}
