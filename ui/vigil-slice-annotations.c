/* Corner text and orientation letters (see vigil-slice-annotations.h). The
 * strings come from the slice's header, copied so a rescan cannot pull them
 * away; empty lines are left out as the viewers do. */
#include "vigil-slice-annotations.h"

#include "vigil-slice-paint.h"

#include <math.h>
#include <string.h>

struct _VigilSliceAnnotations {
  char *patient, *patient_id, *birth_sex;         /* top left */
  char *institution, *study, *study_date;         /* top right */
  char *series, *modality, *location, *thickness; /* bottom left */
  double orientation[6];
  gboolean has_orientation;
};

static const char *const corner_names[VIGIL_N_CORNERS] = {"top-left", "top-right", "bottom-left",
                                                          "bottom-right"};
static const char *const edge_names[VIGIL_N_EDGES] = {"left", "right", "top", "bottom"};

VigilSliceAnnotations *vigil_slice_annotations_new(void) {
  return g_new0(VigilSliceAnnotations, 1);
}

static void clear_strings(VigilSliceAnnotations *a) {
  char **all[] = {&a->patient,    &a->patient_id, &a->birth_sex, &a->institution, &a->study,
                  &a->study_date, &a->series,     &a->modality,  &a->location,    &a->thickness};
  for (gsize i = 0; i < G_N_ELEMENTS(all); i++)
    g_clear_pointer(all[i], g_free);
}

void vigil_slice_annotations_free(VigilSliceAnnotations *a) {
  if (!a)
    return;
  clear_strings(a);
  g_free(a);
}

/* DICOM DA "YYYYMMDD" as "YYYY-MM-DD"; anything else as written. */
static char *format_date(const char *da) {
  if (strlen(da) == 8 && g_ascii_isdigit(da[0]) && g_ascii_isdigit(da[7]))
    return g_strdup_printf("%.4s-%.2s-%.2s", da, da + 4, da + 6);
  return g_strdup(da);
}

/* DICOM PN "Family^Given^Middle^Prefix^Suffix" as "Family, Given Middle". */
static char *format_name(const char *pn) {
  g_auto(GStrv) parts = g_strsplit(pn, "^", 5);
  if (!parts[0] || !parts[1] || !*parts[1])
    return g_strdup(parts[0] ? parts[0] : "");
  return g_strdup_printf("%s, %s%s%s", parts[0], parts[1], parts[2] && *parts[2] ? " " : "",
                         parts[2] ? parts[2] : "");
}

static char *join_nonempty(const char *sep, const char *a, const char *b) {
  if (!*a || !*b)
    return g_strconcat(a, b, NULL);
  return g_strconcat(a, sep, b, NULL);
}

static void set_patient(VigilSliceAnnotations *a, const VigilSliceInfo *info) {
  a->patient = format_name(info->patient_name);
  a->patient_id = *info->patient_id ? g_strdup_printf("ID: %s", info->patient_id) : g_strdup("");
  g_autofree char *birth = format_date(info->patient_birth_date);
  g_autofree char *born = *birth ? g_strdup_printf("DOB: %s", birth) : g_strdup("");
  g_autofree char *sex =
      *info->patient_sex ? g_strdup_printf("Sex: %s", info->patient_sex) : g_strdup("");
  a->birth_sex = join_nonempty("  ", born, sex);
}

static void set_series(VigilSliceAnnotations *a, const VigilSliceInfo *info, double location) {
  g_autofree char *number =
      *info->series_number ? g_strdup_printf("Se: %s", info->series_number) : g_strdup("");
  a->series = join_nonempty("  ", number, info->series_description);
  a->modality = g_strdup(info->modality);
  if (info->has_slice_location)
    location = info->slice_location;
  a->location = isfinite(location) ? g_strdup_printf("Loc: %.2f mm", location) : g_strdup("");
  a->thickness = info->slice_thickness > 0
                     ? g_strdup_printf("Thick: %.2f mm", info->slice_thickness)
                     : g_strdup("");
}

void vigil_slice_annotations_set_info(VigilSliceAnnotations *a, const VigilSliceInfo *info,
                                      double location) {
  clear_strings(a);
  a->has_orientation = info && info->has_orientation;
  if (a->has_orientation)
    memcpy(a->orientation, info->orientation, sizeof a->orientation);
  if (!info)
    return;
  set_patient(a, info);
  a->institution = g_strdup(info->institution);
  a->study = g_strdup(info->study_description);
  a->study_date = format_date(info->study_date);
  set_series(a, info, location);
}

char *vigil_slice_annotations_readout(const VigilImage *image, const VigilMap *overlay, int px,
                                      int py, const char *unit) {
  const float *v = image->values + ((gsize)py * image->width + px) * vigil_image_channels(image);
  g_autofree char *value =
      image->kind == VIGIL_IMAGE_GRAY
          ? g_strdup_printf("(%d, %d)  %.6g%s%s", px, py, v[0], unit ? " " : "", unit ? unit : "")
          : g_strdup_printf("(%d, %d)  %.0f %.0f %.0f", px, py, v[0], v[1], v[2]);
  if (!overlay->values)
    return g_steal_pointer(&value);
  int mx = px * overlay->width / image->width;
  int my = py * overlay->height / image->height;
  return g_strdup_printf("%s\nAnomaly %.3f", value, overlay->values[my * overlay->width + mx]);
}

static void add_line(GString *s, const char *line) {
  if (!line || !*line)
    return;
  if (s->len)
    g_string_append_c(s, '\n');
  g_string_append(s, line);
}

char *vigil_slice_annotations_corner(const VigilSliceAnnotations *a, const VigilAnnotationState *st,
                                     VigilCorner corner) {
  GString *s = g_string_new(NULL);
  switch (corner) {
  case VIGIL_CORNER_TOP_LEFT:
    add_line(s, a->patient), add_line(s, a->patient_id), add_line(s, a->birth_sex);
    break;
  case VIGIL_CORNER_TOP_RIGHT:
    add_line(s, a->institution), add_line(s, a->study), add_line(s, a->study_date);
    break;
  case VIGIL_CORNER_BOTTOM_LEFT: {
    add_line(s, a->series), add_line(s, a->modality);
    g_autofree char *slice = st->slice_count > 0
                                 ? g_strdup_printf("Slice %d / %d", st->slice + 1, st->slice_count)
                                 : NULL;
    add_line(s, slice), add_line(s, a->location), add_line(s, a->thickness);
    break;
  }
  case VIGIL_CORNER_BOTTOM_RIGHT: {
    add_line(s, st->readout);
    g_autofree char *wl =
        st->rgb ? g_strdup("RGB") : g_strdup_printf("W %.0f  L %.0f", st->width, st->center);
    g_autofree char *zoom = g_strdup_printf("Zoom %.0f%%", st->zoom * 100);
    add_line(s, wl), add_line(s, zoom);
    break;
  }
  default: break;
  }
  return g_string_free(s, FALSE);
}

void vigil_slice_annotations_edges(const VigilSliceAnnotations *a, const VigilViewTransform *t,
                                   char edges[VIGIL_N_EDGES][4]) {
  if (a->has_orientation) {
    vigil_orientation_edges(a->orientation, t, edges);
    return;
  }
  for (int e = 0; e < VIGIL_N_EDGES; e++)
    edges[e][0] = '\0';
}

char *vigil_slice_annotations_describe(const VigilSliceAnnotations *a,
                                       const VigilAnnotationState *st, gboolean corners) {
  GString *s = g_string_new(NULL);
  for (int c = 0; corners && c < VIGIL_N_CORNERS; c++) {
    g_autofree char *text = vigil_slice_annotations_corner(a, st, c);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *flat = g_strjoinv(" | ", lines);
    g_string_append_printf(s, "%s: %s\n", corner_names[c], flat);
  }
  char edges[VIGIL_N_EDGES][4];
  vigil_slice_annotations_edges(a, st->transform, edges);
  for (int e = 0; e < VIGIL_N_EDGES; e++)
    g_string_append_printf(s, "%s: %s\n", edge_names[e], edges[e]);
  return g_string_free(s, FALSE);
}

void vigil_slice_annotations_draw(const VigilSliceAnnotations *a, GtkWidget *widget,
                                  GtkSnapshot *snapshot, const VigilAnnotationState *st,
                                  gboolean corners) {
  const double w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget), m = 8;
  for (int c = 0; corners && c < VIGIL_N_CORNERS; c++) {
    g_autofree char *text = vigil_slice_annotations_corner(a, st, c);
    const double ax = c & 1 ? 1 : 0, ay = c & 2 ? 1 : 0;
    vigil_slice_paint_text(widget, snapshot, text, ax ? w - m : m, ay ? h - m : m, ax, ay, FALSE);
  }
  char edges[VIGIL_N_EDGES][4];
  vigil_slice_annotations_edges(a, st->transform, edges);
  vigil_slice_paint_text(widget, snapshot, edges[VIGIL_EDGE_LEFT], m, h / 2, 0, 0.5, TRUE);
  vigil_slice_paint_text(widget, snapshot, edges[VIGIL_EDGE_RIGHT], w - m - (st->legend ? 24 : 0),
                         h / 2, 1, 0.5, TRUE);
  vigil_slice_paint_text(widget, snapshot, edges[VIGIL_EDGE_TOP], w / 2, m, 0.5, 0, TRUE);
  vigil_slice_paint_text(widget, snapshot, edges[VIGIL_EDGE_BOTTOM], w / 2, h - m, 0.5, 1, TRUE);
}
