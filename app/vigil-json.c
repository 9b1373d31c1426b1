/* JSON members: see vigil-json.h. */
#include "vigil-json.h"

#include <math.h>

void vigil_json_add_string(JsonBuilder *builder, const char *key, const char *value) {
  json_builder_set_member_name(builder, key);
  if (value)
    json_builder_add_string_value(builder, value);
  else
    json_builder_add_null_value(builder);
}

void vigil_json_add_number(JsonBuilder *builder, const char *key, double value) {
  json_builder_set_member_name(builder, key);
  if (isfinite(value))
    json_builder_add_double_value(builder, value);
  else
    json_builder_add_null_value(builder);
}
