/* Members of JSON objects the way every Vigil file writes them: a missing
 * string and a number that is not finite are null (json-glib would write
 * "nan", which no JSON reader takes). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void vigil_json_add_string(JsonBuilder *builder, const char *key, const char *value);
void vigil_json_add_number(JsonBuilder *builder, const char *key, double value);

G_END_DECLS
