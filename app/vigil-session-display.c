/* How series are shown, in a session's "view":
 *   "corner_text": false,
 *   "transforms": [{"series": UID, "rotate": 90, "flip_h": false, "flip_v": true,
 *                   "invert": false}, ...]
 * rotate is clockwise in degrees (0, 90, 180, 270), applied after the flips. */
#include <math.h>

#include "vigil-json.h"
#include "vigil-session-private.h"

void vigil_session_set_transform(VigilSession *s, const char *series_uid,
                                 const VigilViewTransform *t) {
  if (!t || vigil_view_transform_is_identity(t)) {
    g_hash_table_remove(s->transforms, series_uid);
    return;
  }
  VigilViewTransform *copy = g_memdup2(t, sizeof *t);
  vigil_view_transform_rotate(copy, 0); /* 0..3 */
  g_hash_table_replace(s->transforms, g_strdup(series_uid), copy);
}

const VigilViewTransform *vigil_session_get_transform(const VigilSession *s,
                                                      const char *series_uid) {
  return series_uid ? g_hash_table_lookup(s->transforms, series_uid) : NULL;
}

static void add_bool(JsonBuilder *b, const char *name, gboolean value) {
  json_builder_set_member_name(b, name);
  json_builder_add_boolean_value(b, value);
}

void _vigil_session_write_display(JsonBuilder *b, const VigilSession *s) {
  add_bool(b, "corner_text", !s->hide_corner_text);
  json_builder_set_member_name(b, "transforms");
  json_builder_begin_array(b);
  g_autoptr(GList) keys = g_hash_table_get_keys(s->transforms);
  keys = g_list_sort(keys, (GCompareFunc)g_strcmp0); /* a stable file */
  for (GList *l = keys; l; l = l->next) {
    const VigilViewTransform *t = g_hash_table_lookup(s->transforms, l->data);
    json_builder_begin_object(b);
    vigil_json_add_string(b, "series", l->data);
    json_builder_set_member_name(b, "rotate");
    json_builder_add_int_value(b, 90 * t->quarter_turns);
    add_bool(b, "flip_h", t->flip_h);
    add_bool(b, "flip_v", t->flip_v);
    add_bool(b, "invert", t->invert);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static gboolean fail(GError **error, const char *what, guint index) {
  g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT, "view transform %u: %s",
              index + 1, what);
  return FALSE;
}

static gboolean get_bool(JsonObject *o, const char *name, gboolean *out) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n)
    return TRUE; /* keep the default */
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
    return FALSE;
  *out = json_node_get_boolean(n);
  return TRUE;
}

static gboolean read_transform(JsonNode *item, guint i, VigilSession *s, GError **error) {
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(item) ? json_node_get_object(item) : NULL;
  if (!o)
    return fail(error, "is not an object", i);
  JsonNode *uid = json_object_get_member(o, "series");
  if (!uid || !JSON_NODE_HOLDS_VALUE(uid) || json_node_get_value_type(uid) != G_TYPE_STRING)
    return fail(error, "needs a series", i);
  VigilViewTransform t = {0};
  JsonNode *rot = json_object_get_member(o, "rotate");
  if (rot) {
    const GType type = JSON_NODE_HOLDS_VALUE(rot) ? json_node_get_value_type(rot) : G_TYPE_NONE;
    const double deg =
        type == G_TYPE_INT64 || type == G_TYPE_DOUBLE ? json_node_get_double(rot) : NAN;
    if (!isfinite(deg) || fmod(deg, 90) != 0 || fabs(deg) > 3600)
      return fail(error, "'rotate' must be a multiple of 90 degrees", i);
    vigil_view_transform_rotate(&t, (int)(deg / 90));
  }
  if (!get_bool(o, "flip_h", &t.flip_h) || !get_bool(o, "flip_v", &t.flip_v) ||
      !get_bool(o, "invert", &t.invert))
    return fail(error, "'flip_h', 'flip_v' and 'invert' must be true or false", i);
  vigil_session_set_transform(s, json_node_get_string(uid), &t);
  return TRUE;
}

gboolean _vigil_session_read_display(JsonObject *view, VigilSession *s, GError **error) {
  gboolean shown = TRUE;
  if (!get_bool(view, "corner_text", &shown)) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field 'corner_text' must be true or false");
    return FALSE;
  }
  s->hide_corner_text = !shown;
  JsonNode *n = json_object_get_member(view, "transforms");
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY(n)) {
    g_set_error(error, VIGIL_SESSION_ERROR, VIGIL_SESSION_ERROR_FORMAT,
                "session field 'transforms' must be a list");
    return FALSE;
  }
  JsonArray *a = json_node_get_array(n);
  for (guint i = 0; i < json_array_get_length(a); i++)
    if (!read_transform(json_array_get_element(a, i), i, s, error))
      return FALSE;
  return TRUE;
}
