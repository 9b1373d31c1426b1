#include "vigil-model-dir.h"

#include <gio/gio.h>

#include "vigil-data.h"

void vigil_model_dir_free(VigilModelDir *m) {
  if (!m)
    return;
  g_free(m->dir);
  if (m->root)
    json_object_unref(m->root);
  g_free(m);
}

static JsonObject *new_index(void) {
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "format", "vigil-models");
  json_object_set_int_member(o, "version", 1);
  return o;
}

VigilModelDir *vigil_model_dir_open(const char *dir, GError **error) {
  g_autoptr(VigilModelDir) m = g_new0(VigilModelDir, 1);
  m->dir = dir ? g_strdup(dir) : vigil_data_model_dir();
  g_autofree char *path = g_build_filename(m->dir, VIGIL_MODEL_DIR_INDEX, NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    m->root = new_index();
    return g_steal_pointer(&m);
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_file(parser, path, error))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  if (!o ||
      g_strcmp0(json_object_get_string_member_with_default(o, "format", ""), "vigil-models") != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "%s is not a Vigil model index (no \"format\": \"vigil-models\")", path);
    return NULL;
  }
  m->root = json_object_ref(o);
  return g_steal_pointer(&m);
}

static JsonObject *member_object(JsonObject *o, const char *name) {
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static char *file_of(const VigilModelDir *m, JsonObject *entry) {
  const char *file = entry ? json_object_get_string_member_with_default(entry, "file", NULL) : NULL;
  return file ? g_build_filename(m->dir, file, NULL) : NULL;
}

static JsonObject *entry_of(const VigilModelDir *m, const char *domain) {
  return domain ? member_object(member_object(m->root, "adapters"), domain)
                : member_object(m->root, "clip");
}

const char *vigil_model_dir_get(const VigilModelDir *m, const char *domain, const char *member) {
  JsonObject *entry = entry_of(m, domain);
  return entry ? json_object_get_string_member_with_default(entry, member, NULL) : NULL;
}

char *vigil_model_dir_clip(const VigilModelDir *m) {
  return file_of(m, entry_of(m, NULL));
}

char *vigil_model_dir_adapters(const VigilModelDir *m, const char *domain) {
  return domain ? file_of(m, entry_of(m, domain)) : NULL;
}

/* The first domain with adapters (for a custom class), or NULL. */
static const char *first_domain(const VigilModelDir *m) {
  JsonObject *adapters = member_object(m->root, "adapters");
  g_autoptr(GList) names = adapters ? json_object_get_members(adapters) : NULL;
  return names ? names->data : NULL;
}

static JsonObject *ensure_object(JsonObject *o, const char *name) {
  if (!member_object(o, name))
    json_object_set_object_member(o, name, json_object_new());
  return member_object(o, name);
}

JsonObject *vigil_model_dir_entry(VigilModelDir *m, const char *domain) {
  if (!domain)
    return ensure_object(m->root, "clip");
  return ensure_object(ensure_object(m->root, "adapters"), domain);
}

JsonObject *vigil_model_dir_calibrations(VigilModelDir *m) {
  return ensure_object(m->root, "calibrations");
}

gboolean vigil_model_dir_save(const VigilModelDir *m, GError **error) {
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), m->root);
  json_generator_set_pretty(gen, TRUE);
  json_generator_set_root(gen, node);
  g_autofree char *text = json_generator_to_data(gen, NULL);
  g_autofree char *path = g_build_filename(m->dir, VIGIL_MODEL_DIR_INDEX, NULL);
  return g_file_set_contents(path, text, -1, error);
}

static VigilModelDir *open_quietly(void) {
  g_autoptr(GError) error = NULL;
  VigilModelDir *m = vigil_model_dir_open(NULL, &error);
  if (!m)
    g_warning("model folder: %s", error->message);
  return m;
}

char *vigil_model_dir_pick_clip(const char *setting) {
  if (setting && *setting)
    return g_strdup(setting);
  g_autoptr(VigilModelDir) m = open_quietly();
  return m ? vigil_model_dir_clip(m) : NULL;
}

char *vigil_model_dir_pick_adapters(GVariant *setting_map, const char *domain) {
  const char *path = NULL;
  if (domain)
    g_variant_lookup(setting_map, domain, "&s", &path);
  else if (g_variant_n_children(setting_map) > 0)
    g_variant_get_child(setting_map, 0, "{&s&s}", NULL, &path);
  if (path && *path)
    return g_strdup(path);
  g_autoptr(VigilModelDir) m = open_quietly();
  if (!m)
    return NULL;
  return vigil_model_dir_adapters(m, domain ? domain : first_domain(m));
}
