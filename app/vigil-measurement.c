#include "vigil-measurement.h"

#include <math.h>

#include "vigil-json.h"

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
G_DEFINE_QUARK(vigil-measurement-error-quark, vigil_measurement_error)
/* clang-format on */

static const char *const kind_names[] = {"ruler", "ellipse", "freehand", "region"};
static const char *const spacing_ids[] = {"none", "pixel", "imager", "voxel"};

const char *vigil_measure_kind_name(VigilMeasureKind kind) {
  return (guint)kind < G_N_ELEMENTS(kind_names) ? kind_names[kind] : "unknown";
}

const char *vigil_spacing_source_name(VigilSpacingSource source) {
  switch (source) {
  case VIGIL_SPACING_PIXEL: return "Pixel Spacing";
  case VIGIL_SPACING_IMAGER: return "Imager Pixel Spacing";
  case VIGIL_SPACING_VOXEL: return "NIfTI voxel size";
  default: return "pixels";
  }
}

static void clear_results(VigilMeasurement *m) {
  m->spacing = VIGIL_SPACING_NONE;
  m->length = m->area = 0;
  m->n_pixels = 0;
  m->mean = m->sd = m->min = m->max = NAN;
  g_clear_pointer(&m->unit, g_free);
}

VigilMeasurement *vigil_measurement_new(VigilMeasureKind kind, const char *series_uid, int slice,
                                        const VigilMeasurePoint *points, guint n_points) {
  VigilMeasurement *m = g_new0(VigilMeasurement, 1);
  m->kind = kind;
  m->series_uid = g_strdup(series_uid ? series_uid : "");
  m->slice = slice;
  m->points = g_array_sized_new(FALSE, FALSE, sizeof(VigilMeasurePoint), n_points);
  if (n_points)
    g_array_append_vals(m->points, points, n_points);
  clear_results(m);
  return m;
}

VigilMeasurement *vigil_measurement_copy(const VigilMeasurement *m) {
  VigilMeasurement *c = vigil_measurement_new(
      m->kind, m->series_uid, m->slice, (const VigilMeasurePoint *)m->points->data, m->points->len);
  c->id = m->id;
  c->spacing = m->spacing;
  c->length = m->length, c->area = m->area, c->n_pixels = m->n_pixels;
  c->mean = m->mean, c->sd = m->sd, c->min = m->min, c->max = m->max;
  c->unit = g_strdup(m->unit);
  return c;
}

void vigil_measurement_free(VigilMeasurement *m) {
  if (!m)
    return;
  g_free(m->series_uid);
  g_array_unref(m->points);
  g_free(m->unit);
  g_free(m);
}

static const VigilMeasurePoint *point(const VigilMeasurement *m, guint i) {
  return &g_array_index(m->points, VigilMeasurePoint, i);
}

/* The ellipse's centre and semi-axes from its bounding box. */
static void ellipse_axes(const VigilMeasurement *m, double *cx, double *cy, double *rx,
                         double *ry) {
  const VigilMeasurePoint *a = point(m, 0), *b = point(m, 1);
  *cx = (a->x + b->x) / 2, *cy = (a->y + b->y) / 2;
  *rx = fabs(b->x - a->x) / 2, *ry = fabs(b->y - a->y) / 2;
}

/* Even-odd rule (W. R. Franklin's pnpoly) on the closed outline. */
static gboolean polygon_contains(const VigilMeasurement *m, double x, double y) {
  gboolean inside = FALSE;
  for (guint i = 0, j = m->points->len - 1; i < m->points->len; j = i++) {
    const VigilMeasurePoint *p = point(m, i), *q = point(m, j);
    if ((p->y > y) != (q->y > y) && x < (q->x - p->x) * (y - p->y) / (q->y - p->y) + p->x)
      inside = !inside;
  }
  return inside;
}

gboolean vigil_measurement_contains(const VigilMeasurement *m, int px, int py) {
  const double x = px + 0.5, y = py + 0.5;
  if (m->kind == VIGIL_MEASURE_ELLIPSE && m->points->len == 2) {
    double cx, cy, rx, ry;
    ellipse_axes(m, &cx, &cy, &rx, &ry);
    if (rx <= 0 || ry <= 0)
      return FALSE;
    const double u = (x - cx) / rx, v = (y - cy) / ry;
    return u * u + v * v <= 1;
  }
  if (m->kind == VIGIL_MEASURE_FREEHAND && m->points->len >= 3)
    return polygon_contains(m, x, y);
  return FALSE;
}

/* The shape's own area in pixels². */
static double shape_area(const VigilMeasurement *m) {
  if (m->kind == VIGIL_MEASURE_ELLIPSE) {
    double cx, cy, rx, ry;
    ellipse_axes(m, &cx, &cy, &rx, &ry);
    return G_PI * rx * ry;
  }
  double twice = 0; /* the shoelace formula */
  for (guint i = 0, j = m->points->len - 1; i < m->points->len; j = i++)
    twice += point(m, j)->x * point(m, i)->y - point(m, i)->x * point(m, j)->y;
  return fabs(twice) / 2;
}

static gboolean fail(GError **error, int code, const char *message) {
  g_set_error_literal(error, VIGIL_MEASUREMENT_ERROR, code, message);
  return FALSE;
}

/* Mean, population SD, min and max of the grey values whose pixel centre is
 * inside, in two passes over the shape's bounding box (clipped to the image). */
static void region_stats(VigilMeasurement *m, const VigilImage *image) {
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  for (guint i = 0; i < m->points->len; i++) {
    x0 = MIN(x0, point(m, i)->x), x1 = MAX(x1, point(m, i)->x);
    y0 = MIN(y0, point(m, i)->y), y1 = MAX(y1, point(m, i)->y);
  }
  const int i0 = (int)CLAMP(floor(x0), 0, image->width), i1 = (int)CLAMP(ceil(x1), 0, image->width);
  const int j0 = (int)CLAMP(floor(y0), 0, image->height),
            j1 = (int)CLAMP(ceil(y1), 0, image->height);
  const gboolean grey = image->kind == VIGIL_IMAGE_GRAY;
  double sum = 0;
  for (int j = j0; j < j1; j++)
    for (int i = i0; i < i1; i++)
      if (vigil_measurement_contains(m, i, j)) {
        m->n_pixels++;
        if (!grey)
          continue; /* colour: area and pixels only */
        const double v = image->values[(gsize)j * image->width + i];
        sum += v;
        m->min = isnan(m->min) ? v : MIN(m->min, v);
        m->max = isnan(m->max) ? v : MAX(m->max, v);
      }
  if (!grey || m->n_pixels == 0)
    return;
  m->mean = sum / m->n_pixels;
  double squares = 0;
  for (int j = j0; j < j1; j++)
    for (int i = i0; i < i1; i++)
      if (vigil_measurement_contains(m, i, j)) {
        const double d = image->values[(gsize)j * image->width + i] - m->mean;
        squares += d * d;
      }
  m->sd = sqrt(squares / m->n_pixels);
}

static gboolean points_valid(const VigilMeasurement *m, GError **error) {
  const guint need = m->kind == VIGIL_MEASURE_FREEHAND ? 3 : 2;
  if (m->points->len < need || (m->kind != VIGIL_MEASURE_FREEHAND && m->points->len != need))
    return fail(error, VIGIL_MEASUREMENT_ERROR_INVALID,
                m->kind == VIGIL_MEASURE_FREEHAND ? "A freehand region needs at least three points"
                                                  : "This measurement needs exactly two points");
  for (guint i = 0; i < m->points->len; i++)
    if (!isfinite(point(m, i)->x) || !isfinite(point(m, i)->y))
      return fail(error, VIGIL_MEASUREMENT_ERROR_INVALID, "A measurement point is not a number");
  return TRUE;
}

gboolean vigil_measurement_compute(VigilMeasurement *m, const VigilImage *image, const char *unit,
                                   GError **error) {
  clear_results(m);
  if (m->kind == VIGIL_MEASURE_REGION)
    return fail(error, VIGIL_MEASUREMENT_ERROR_INVALID,
                "The heatmap region is measured on the map, not the image");
  if (!points_valid(m, error))
    return FALSE;
  m->spacing = image->spacing_source;
  const gboolean mm = image->pixel_spacing[0] > 0 && image->pixel_spacing[1] > 0;
  if (!mm)
    m->spacing = VIGIL_SPACING_NONE;
  const double sy = mm ? image->pixel_spacing[0] : 1, sx = mm ? image->pixel_spacing[1] : 1;
  if (m->kind == VIGIL_MEASURE_RULER) {
    m->length =
        hypot((point(m, 1)->x - point(m, 0)->x) * sx, (point(m, 1)->y - point(m, 0)->y) * sy);
    return m->length > 0 ||
           fail(error, VIGIL_MEASUREMENT_ERROR_EMPTY, "The ruler has zero length: drag to measure");
  }
  m->area = shape_area(m) * sx * sy;
  if (!(m->area > 0))
    return fail(error, VIGIL_MEASUREMENT_ERROR_EMPTY,
                "The region has zero area: drag out a larger shape");
  region_stats(m, image);
  if (m->n_pixels == 0) {
    clear_results(m);
    return fail(error, VIGIL_MEASUREMENT_ERROR_EMPTY,
                "The region holds no pixel centre: draw it larger or zoom in");
  }
  m->unit = image->kind == VIGIL_IMAGE_GRAY ? g_strdup(unit) : NULL;
  return TRUE;
}

VigilMeasurement *vigil_measurement_new_region(const char *series_uid, int slice,
                                               const VigilMapRegion *region,
                                               VigilSpacingSource spacing) {
  const VigilMeasurePoint at = {region->max_x, region->max_y};
  VigilMeasurement *m =
      vigil_measurement_new(VIGIL_MEASURE_REGION, series_uid, slice, &at, region->cells ? 1 : 0);
  m->spacing = region->area_mm ? spacing : VIGIL_SPACING_NONE;
  m->area = region->area;
  m->n_pixels = region->cells;
  m->max = region->max_value;
  return m;
}

char *vigil_measurement_describe(const VigilMeasurement *m) {
  const gboolean mm = m->spacing != VIGIL_SPACING_NONE;
  const char *len_unit = mm ? "mm" : "pixels", *area_unit = mm ? "mm²" : "pixels²";
  g_autofree char *source = mm ? g_strdup_printf("(%s)", vigil_spacing_source_name(m->spacing))
                               : g_strdup("(no pixel spacing)");
  switch (m->kind) {
  case VIGIL_MEASURE_RULER:
    return g_strdup_printf("Ruler: %.2f %s %s", m->length, len_unit, source);
  case VIGIL_MEASURE_REGION:
    if (m->n_pixels == 0)
      return g_strdup("Heatmap region: nothing above the threshold");
    return g_strdup_printf("Heatmap region: %.2f %s, %u cells, max %.3f at (%.0f, %.0f) %s",
                           m->area, area_unit, m->n_pixels, m->max, point(m, 0)->x, point(m, 0)->y,
                           source);
  default: break;
  }
  const char *name = m->kind == VIGIL_MEASURE_ELLIPSE ? "Ellipse" : "Freehand";
  if (isnan(m->mean))
    return g_strdup_printf("%s: %.2f %s, %u pixels %s", name, m->area, area_unit, m->n_pixels,
                           source);
  const char *u = m->unit ? m->unit : "";
  return g_strdup_printf("%s: %.2f %s, %u pixels, mean %.2f%s%s, SD %.2f, min %.6g, max %.6g %s",
                         name, m->area, area_unit, m->n_pixels, m->mean, *u ? " " : "", u, m->sd,
                         m->min, m->max, source);
}

char *vigil_measurement_label(const VigilMeasurement *m) {
  const gboolean mm = m->spacing != VIGIL_SPACING_NONE;
  const char *u = m->unit ? m->unit : "";
  switch (m->kind) {
  case VIGIL_MEASURE_RULER: return g_strdup_printf("%.1f %s", m->length, mm ? "mm" : "px");
  case VIGIL_MEASURE_REGION:
    return g_strdup_printf("%.1f %s, max %.3f", m->area, mm ? "mm²" : "px²", m->max);
  default:
    if (isnan(m->mean))
      return g_strdup_printf("%.1f %s", m->area, mm ? "mm²" : "px²");
    return g_strdup_printf("%.1f %s\nmean %.1f %s, SD %.1f\nmin %.6g, max %.6g", m->area,
                           mm ? "mm²" : "px²", m->mean, u, m->sd, m->min, m->max);
  }
}

JsonNode *vigil_measurement_to_json(const VigilMeasurement *m) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, m->id);
  vigil_json_add_string(b, "kind", vigil_measure_kind_name(m->kind));
  vigil_json_add_string(b, "series", m->series_uid);
  json_builder_set_member_name(b, "slice");
  json_builder_add_int_value(b, m->slice);
  json_builder_set_member_name(b, "points");
  json_builder_begin_array(b);
  for (guint i = 0; i < m->points->len; i++) {
    json_builder_begin_array(b);
    json_builder_add_double_value(b, point(m, i)->x);
    json_builder_add_double_value(b, point(m, i)->y);
    json_builder_end_array(b);
  }
  json_builder_end_array(b);
  vigil_json_add_string(b, "spacing", spacing_ids[m->spacing]);
  vigil_json_add_string(b, "units", m->spacing != VIGIL_SPACING_NONE ? "mm" : "pixels");
  vigil_json_add_number(b, "length", m->length);
  vigil_json_add_number(b, "area", m->area);
  json_builder_set_member_name(b, "pixels");
  json_builder_add_int_value(b, m->n_pixels);
  vigil_json_add_number(b, "mean", m->mean);
  vigil_json_add_number(b, "sd", m->sd);
  vigil_json_add_number(b, "min", m->min);
  vigil_json_add_number(b, "max", m->max);
  vigil_json_add_string(b, "unit", m->unit);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static int index_of(const char *const *names, guint n, const char *name) {
  for (guint i = 0; name && i < n; i++)
    if (g_str_equal(names[i], name))
      return (int)i;
  return -1;
}

static gboolean is_number(JsonNode *n) {
  GType t = n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

/* A number member, NAN when null or missing; FALSE when it is something else. */
static gboolean get_number(JsonObject *o, const char *name, double *out) {
  JsonNode *n = json_object_get_member(o, name);
  *out = NAN;
  if (!n || JSON_NODE_HOLDS_NULL(n))
    return TRUE;
  if (!is_number(n))
    return FALSE;
  *out = json_node_get_double(n);
  return TRUE;
}

/* "points": [[x, y], ...], finite numbers. */
static gboolean read_points(JsonObject *o, GArray *points) {
  JsonArray *a = json_object_get_array_member(o, "points");
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonNode *n = json_array_get_element(a, i);
    JsonArray *xy = JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
    if (!xy || json_array_get_length(xy) != 2 || !is_number(json_array_get_element(xy, 0)) ||
        !is_number(json_array_get_element(xy, 1)))
      return FALSE;
    VigilMeasurePoint p = {json_array_get_double_element(xy, 0),
                           json_array_get_double_element(xy, 1)};
    if (!isfinite(p.x) || !isfinite(p.y))
      return FALSE;
    g_array_append_val(points, p);
  }
  return a != NULL;
}

/* A string member, or `otherwise` when it is missing, null or not a string. */
static const char *string_of(JsonObject *o, const char *name, const char *otherwise) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return otherwise;
  return json_node_get_string(n);
}

VigilMeasurement *vigil_measurement_from_json(JsonNode *node, GError **error) {
  JsonObject *o = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
  const int k = o ? index_of(kind_names, G_N_ELEMENTS(kind_names), string_of(o, "kind", NULL)) : -1;
  const int sp =
      o ? index_of(spacing_ids, G_N_ELEMENTS(spacing_ids), string_of(o, "spacing", "none")) : -1;
  double slice = -1;
  JsonNode *points = o ? json_object_get_member(o, "points") : NULL;
  if (k < 0 || sp < 0 || !get_number(o, "slice", &slice) || !(slice >= 0 && slice <= G_MAXINT) ||
      !points || !JSON_NODE_HOLDS_ARRAY(points)) {
    fail(error, VIGIL_MEASUREMENT_ERROR_INVALID,
         "a measurement needs a known kind, a slice of 0 or more and its points");
    return NULL;
  }
  g_autoptr(VigilMeasurement) m =
      vigil_measurement_new(k, string_of(o, "series", ""), (int)slice, NULL, 0);
  double id, pixels;
  if (!read_points(o, m->points) || !get_number(o, "id", &id) ||
      !get_number(o, "length", &m->length) || !get_number(o, "area", &m->area) ||
      !get_number(o, "pixels", &pixels) || !get_number(o, "mean", &m->mean) ||
      !get_number(o, "sd", &m->sd) || !get_number(o, "min", &m->min) ||
      !get_number(o, "max", &m->max)) {
    fail(error, VIGIL_MEASUREMENT_ERROR_INVALID, "a measurement has a malformed point or number");
    return NULL;
  }
  m->id = isfinite(id) && id > 0 && id < G_MAXUINT ? (guint)id : 0;
  m->n_pixels = isfinite(pixels) && pixels > 0 && pixels < G_MAXUINT ? (guint)pixels : 0;
  m->length = isfinite(m->length) ? m->length : 0;
  m->area = isfinite(m->area) ? m->area : 0;
  m->spacing = sp;
  m->unit = g_strdup(string_of(o, "unit", NULL));
  return g_steal_pointer(&m);
}
