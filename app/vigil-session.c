#include "vigil-session.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "vigil-json.h"
#include "vigil-session-private.h"
#include "vigil-measurement.h"

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
G_DEFINE_QUARK(vigil-session-error-quark, vigil_session_error)
/* clang-format on */

static void free_ref(gpointer data) {
  VigilSliceRef *ref = data;
  g_free(ref->path);
  g_free(ref->series_uid);
  g_free(ref);
}

VigilSession *vigil_session_new(void) {
  VigilSession *s = g_new0(VigilSession, 1);
  s->open_paths = g_ptr_array_new_with_free_func(g_free);
  s->references = g_ptr_array_new_with_free_func(free_ref);
  s->marked = g_ptr_array_new_with_free_func(free_ref);
  s->measurements = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_measurement_free);
  s->mode = g_strdup("zero-shot");
  s->zoom = 1.0;
  s->transforms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return s;
}

void vigil_session_free(VigilSession *s) {
  if (!s)
    return;
  g_ptr_array_unref(s->open_paths);
  g_ptr_array_unref(s->references);
  g_ptr_array_unref(s->marked);
  g_hash_table_unref(s->transforms);
  g_ptr_array_unref(s->measurements);
  g_free(s->domain), g_free(s->custom_class), g_free(s->mode), g_free(s->series_uid);
  g_free(s->note), g_free(s->calibration);
  g_free(s);
}

static gboolean same_ref(const VigilSliceRef *r, const char *path, const char *uid, int slice) {
  return g_strcmp0(r->path, path) == 0 && g_strcmp0(r->series_uid, uid) == 0 && r->slice == slice;
}

void vigil_session_add_reference(VigilSession *s, const char *path, const char *series_uid,
                                 int slice) {
  for (guint i = 0; i < s->references->len; i++)
    if (same_ref(g_ptr_array_index(s->references, i), path, series_uid, slice))
      return; /* already a reference */
  VigilSliceRef *ref = g_new0(VigilSliceRef, 1);
  ref->path = g_strdup(path);
  ref->series_uid = g_strdup(series_uid);
  ref->slice = slice;
  g_ptr_array_add(s->references, ref);
}

gboolean vigil_session_remove_reference(VigilSession *s, const char *path, const char *series_uid,
                                        int slice) {
  for (guint i = 0; i < s->references->len; i++)
    if (same_ref(g_ptr_array_index(s->references, i), path, series_uid, slice)) {
      g_ptr_array_remove_index(s->references, i);
      return TRUE;
    }
  return FALSE;
}

void vigil_session_add_marked(VigilSession *s, const char *series_uid, int slice) {
  for (guint i = 0; i < s->marked->len; i++)
    if (same_ref(g_ptr_array_index(s->marked, i), NULL, series_uid, slice))
      return;
  VigilSliceRef *ref = g_new0(VigilSliceRef, 1);
  ref->series_uid = g_strdup(series_uid);
  ref->slice = slice;
  g_ptr_array_add(s->marked, ref);
}

static void add_double(JsonBuilder *b, const char *name, double value) {
  json_builder_set_member_name(b, name);
  json_builder_add_double_value(b, value);
}

/* "calibration": the calibration's own JSON object, kept as written. */
static void add_calibration(JsonBuilder *b, const char *json) {
  g_autoptr(JsonNode) node = json ? json_from_string(json, NULL) : NULL;
  if (!node)
    return;
  json_builder_set_member_name(b, "calibration");
  json_builder_add_value(b, g_steal_pointer(&node));
}

static gboolean read_calibration(JsonObject *root, VigilSession *s, GError **error) {
  JsonNode *n = json_object_get_member(root, "calibration");
  if (!n || JSON_NODE_HOLDS_NULL(n))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT(n)) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field 'calibration' must be an object");
    return FALSE;
  }
  s->calibration = json_to_string(n, FALSE);
  return TRUE;
}

static char *vigil_session_to_json(const VigilSession *s) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "format", "vigil-session");
  json_builder_set_member_name(b, "version");
  json_builder_add_int_value(b, VIGIL_SESSION_VERSION);
  json_builder_set_member_name(b, "open");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->open_paths->len; i++)
    json_builder_add_string_value(b, g_ptr_array_index(s->open_paths, i));
  json_builder_end_array(b);
  json_builder_set_member_name(b, "references");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->references->len; i++) {
    const VigilSliceRef *r = g_ptr_array_index(s->references, i);
    json_builder_begin_object(b);
    vigil_json_add_string(b, "path", r->path);
    vigil_json_add_string(b, "series", r->series_uid);
    json_builder_set_member_name(b, "slice");
    json_builder_add_int_value(b, r->slice);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  vigil_json_add_string(b, "domain", s->domain);
  vigil_json_add_string(b, "custom_class", s->custom_class);
  vigil_json_add_string(b, "mode", s->mode);
  vigil_json_add_string(b, "note", s->note);
  json_builder_set_member_name(b, "marked");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->marked->len; i++) {
    const VigilSliceRef *r = g_ptr_array_index(s->marked, i);
    json_builder_begin_object(b);
    vigil_json_add_string(b, "series", r->series_uid);
    json_builder_set_member_name(b, "slice");
    json_builder_add_int_value(b, r->slice);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  add_calibration(b, s->calibration);
  json_builder_set_member_name(b, "measurements");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->measurements->len; i++)
    json_builder_add_value(b, vigil_measurement_to_json(g_ptr_array_index(s->measurements, i)));
  json_builder_end_array(b);
  json_builder_set_member_name(b, "view");
  json_builder_begin_object(b);
  vigil_json_add_string(b, "series", s->series_uid);
  json_builder_set_member_name(b, "slice");
  json_builder_add_int_value(b, s->slice);
  add_double(b, "zoom", s->zoom);
  add_double(b, "pan_x", s->pan_x);
  add_double(b, "pan_y", s->pan_y);
  if (s->has_window) {
    add_double(b, "window_center", s->window_center);
    add_double(b, "window_width", s->window_width);
  }
  _vigil_session_write_display(b, s);
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_pretty(gen, TRUE);
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, NULL);
}

/* Typed member access that reports what is wrong instead of guessing. */
static gboolean get_string(JsonObject *o, const char *name, char **out, GError **error) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n || JSON_NODE_HOLDS_NULL(n)) {
    *out = NULL;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field '%s' must be a string", name);
    return FALSE;
  }
  *out = g_strdup(json_node_get_string(n));
  return TRUE;
}

static gboolean get_number(JsonObject *o, const char *name, double *out, GError **error) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n)
    return TRUE; /* keep the default */
  GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field '%s' must be a number", name);
    return FALSE;
  }
  *out = json_node_get_double(n);
  if (!isfinite(*out)) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field '%s' is not finite", name);
    return FALSE;
  }
  return TRUE;
}

static gboolean read_references(JsonObject *root, VigilSession *s, GError **error) {
  JsonNode *n = json_object_get_member(root, "references");
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY(n)) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field 'references' must be a list");
    return FALSE;
  }
  JsonArray *a = json_node_get_array(n);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonNode *item = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(item)) {
      g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                  "reference %u is not an object", i + 1);
      return FALSE;
    }
    JsonObject *o = json_node_get_object(item);
    g_autofree char *path = NULL, *uid = NULL;
    double slice = 0;
    if (!get_string(o, "path", &path, error) || !get_string(o, "series", &uid, error) ||
        !get_number(o, "slice", &slice, error))
      return FALSE;
    if (!path || slice < 0 || slice > G_MAXINT) {
      g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                  "reference %u needs a path and a slice of 0 or more", i + 1);
      return FALSE;
    }
    vigil_session_add_reference(s, path, uid, (int)slice);
  }
  return TRUE;
}

/* "marked": [{"series": UID or null, "slice": N}, ...] */
static gboolean read_marked(JsonObject *root, VigilSession *s, GError **error) {
  JsonNode *n = json_object_get_member(root, "marked");
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
  if (n && !a) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field 'marked' must be a list");
    return FALSE;
  }
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonNode *item = json_array_get_element(a, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(item) ? json_node_get_object(item) : NULL;
    g_autofree char *uid = NULL;
    double slice = -1;
    if (o && (!get_string(o, "series", &uid, error) || !get_number(o, "slice", &slice, error)))
      return FALSE;
    if (!o || slice < 0 || slice > G_MAXINT) {
      g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                  "marked slice %u needs a slice of 0 or more", i + 1);
      return FALSE;
    }
    vigil_session_add_marked(s, uid, (int)slice);
  }
  return TRUE;
}

/* "measurements": [...] (vigil_measurement_to_json); older sessions have none. */
static gboolean read_measurements(JsonObject *root, VigilSession *s, GError **error) {
  JsonNode *n = json_object_get_member(root, "measurements");
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
  if (n && !a) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field 'measurements' must be a list");
    return FALSE;
  }
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    g_autoptr(GError) bad = NULL;
    VigilMeasurement *m = vigil_measurement_from_json(json_array_get_element(a, i), &bad);
    if (!m) {
      g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT, "measurement %u: %s",
                  i + 1, bad->message);
      return FALSE;
    }
    g_ptr_array_add(s->measurements, m);
  }
  return TRUE;
}

static gboolean read_open(JsonObject *root, VigilSession *s, GError **error) {
  JsonNode *n = json_object_get_member(root, "open");
  if (!n)
    return TRUE;
  JsonArray *a = JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonNode *item = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_VALUE(item) || json_node_get_value_type(item) != G_TYPE_STRING)
      a = NULL;
    else
      g_ptr_array_add(s->open_paths, g_strdup(json_node_get_string(item)));
  }
  if (!a)
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field 'open' must be a list of paths");
  return a != NULL;
}

static gboolean read_view(JsonObject *root, VigilSession *s, GError **error) {
  JsonNode *n = json_object_get_member(root, "view");
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT(n)) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field 'view' must be an object");
    return FALSE;
  }
  JsonObject *v = json_node_get_object(n);
  double slice = 0;
  if (!get_string(v, "series", &s->series_uid, error) || !get_number(v, "slice", &slice, error) ||
      !get_number(v, "zoom", &s->zoom, error) || !get_number(v, "pan_x", &s->pan_x, error) ||
      !get_number(v, "pan_y", &s->pan_y, error))
    return FALSE;
  s->slice = (int)CLAMP(slice, 0, G_MAXINT);
  s->has_window = json_object_has_member(v, "window_center");
  return (!s->has_window || (get_number(v, "window_center", &s->window_center, error) &&
                             get_number(v, "window_width", &s->window_width, error))) &&
         _vigil_session_read_display(v, s, error);
}

VigilSession *vigil_session_from_json(const char *json, gssize length, GError **error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) parse_error = NULL;
  if (!json_parser_load_from_data(parser, json, length, &parse_error)) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "not a Vigil session (invalid JSON: %s)", parse_error->message);
    return NULL;
  }
  JsonNode *root_node = json_parser_get_root(parser);
  JsonObject *root =
      root_node && JSON_NODE_HOLDS_OBJECT(root_node) ? json_node_get_object(root_node) : NULL;
  if (!root || g_strcmp0(json_object_get_string_member_with_default(root, "format", ""),
                         "vigil-session") != 0) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "not a Vigil session (no \"format\": \"vigil-session\")");
    return NULL;
  }
  gint64 version = json_object_get_int_member_with_default(root, "version", 0);
  if (version < 1 || version > VIGIL_SESSION_VERSION) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_VERSION,
                "session version %" G_GINT64_FORMAT " is not supported (this Vigil reads 1 to %d)",
                version, VIGIL_SESSION_VERSION);
    return NULL;
  }
  g_autoptr(VigilSession) s = vigil_session_new();
  g_clear_pointer(&s->mode, g_free);
  if (!read_open(root, s, error) || !read_references(root, s, error) ||
      !get_string(root, "domain", &s->domain, error) ||
      !get_string(root, "custom_class", &s->custom_class, error) ||
      !get_string(root, "mode", &s->mode, error) || !get_string(root, "note", &s->note, error) ||
      !read_marked(root, s, error) || !read_calibration(root, s, error) ||
      !read_measurements(root, s, error) || !read_view(root, s, error))
    return NULL;
  if (!s->mode)
    s->mode = g_strdup("zero-shot");
  if (!g_str_equal(s->mode, "zero-shot") && !g_str_equal(s->mode, "few-shot")) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "unknown analysis mode '%s'", s->mode);
    return NULL;
  }
  return g_steal_pointer(&s);
}

gboolean vigil_session_save(const VigilSession *s, const char *path, GError **error) {
  g_autofree char *json = vigil_session_to_json(s);
  g_autofree char *dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_IO, "cannot create '%s'", dir);
    return FALSE;
  }
  g_autoptr(GError) io_error = NULL;
  if (!g_file_set_contents_full(path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &io_error)) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_IO, "cannot save session: %s",
                io_error->message);
    return FALSE;
  }
  return TRUE;
}

VigilSession *vigil_session_load(const char *path, GError **error) {
  g_autofree char *json = NULL;
  gsize length = 0;
  g_autoptr(GError) io_error = NULL;
  if (!g_file_get_contents(path, &json, &length, &io_error)) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_IO, "cannot read session: %s",
                io_error->message);
    return NULL;
  }
  return vigil_session_from_json(json, (gssize)length, error);
}

char *vigil_session_autosave_path(void) {
  const char *state = g_getenv("XDG_STATE_HOME");
  g_autofree char *fallback = g_build_filename(g_get_home_dir(), ".local", "state", NULL);
  return g_build_filename(state && *state ? state : fallback, "vigil", "autosave.vigil", NULL);
}
