/* vigil-cli info: what opening PATHs gives — studies, series, slices, and the
 * files that could not be opened. Exit 1 when nothing opened. */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "vigil-cli.h"
#include "vigil-scan.h"

static void member_str(JsonBuilder *b, const char *name, const char *value) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value ? value : "");
}

static void member_int(JsonBuilder *b, const char *name, gint64 value) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

static void member_doubles(JsonBuilder *b, const char *name, const double *v, int n) {
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (int i = 0; i < n; i++)
    json_builder_add_double_value(b, v[i]);
  json_builder_end_array(b);
}

static void json_windows(JsonBuilder *b, const VigilSliceInfo *info) {
  json_builder_set_member_name(b, "windows");
  json_builder_begin_array(b);
  for (int i = 0; i < info->n_windows; i++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "center");
    json_builder_add_double_value(b, info->windows[i].center);
    json_builder_set_member_name(b, "width");
    json_builder_add_double_value(b, info->windows[i].width);
    member_str(b, "explanation", info->windows[i].explanation);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static void json_slice(JsonBuilder *b, const VigilSlice *s) {
  json_builder_begin_object(b);
  member_str(b, "path", s->path);
  member_int(b, "frame", s->frame);
  json_builder_set_member_name(b, "location");
  json_builder_add_double_value(b, s->location);
  if (s->info && s->info->has_instance_number)
    member_int(b, "instance_number", s->info->instance_number);
  if (s->info && s->info->frame_positions)
    member_doubles(b, "position", s->info->frame_positions + 3 * s->frame, 3);
  else if (s->info && s->info->has_position)
    member_doubles(b, "position", s->info->position, 3);
  json_builder_end_object(b);
}

static void json_series(JsonBuilder *b, const VigilSeries *se) {
  const VigilSlice *first = g_ptr_array_index(se->slices, 0);
  const VigilSliceInfo *info = first->info;
  json_builder_begin_object(b);
  member_str(b, "series_uid", se->uid);
  member_str(b, "description", se->description);
  member_str(b, "modality", se->modality);
  member_str(b, "body_part", info->body_part);
  member_str(b, "manufacturer", info->manufacturer);
  member_str(b, "transfer_syntax", info->transfer_syntax_name);
  g_autofree char *syntaxes = vigil_series_transfer_syntaxes(se);
  member_str(b, "transfer_syntaxes", syntaxes);
  const VigilSliceInfo *lossy = NULL;
  member_int(b, "lossy_slices", vigil_series_lossy_slices(se, &lossy));
  member_str(b, "lossy_method", lossy ? lossy->lossy_method : "");
  member_str(b, "photometric", info->photometric);
  member_int(b, "columns", se->width);
  member_int(b, "rows", se->height);
  member_int(b, "n_slices", se->slices->len);
  member_doubles(b, "pixel_spacing", info->pixel_spacing, 2);
  json_builder_set_member_name(b, "slice_thickness");
  json_builder_add_double_value(b, info->slice_thickness);
  json_builder_set_member_name(b, "slice_spacing");
  json_builder_add_double_value(b, se->slice_spacing);
  member_str(b, "order", vigil_slice_order_name(se->order));
  if (info->has_orientation)
    member_doubles(b, "orientation", info->orientation, 6);
  json_builder_set_member_name(b, "rescale");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "slope");
  json_builder_add_double_value(b, info->rescale_slope);
  json_builder_set_member_name(b, "intercept");
  json_builder_add_double_value(b, info->rescale_intercept);
  json_builder_end_object(b);
  json_windows(b, info);
  if (se->warning)
    member_str(b, "warning", se->warning);
  json_builder_set_member_name(b, "slices");
  json_builder_begin_array(b);
  for (guint i = 0; i < se->slices->len; i++)
    json_slice(b, g_ptr_array_index(se->slices, i));
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static void json_study(JsonBuilder *b, const VigilStudy *st) {
  const VigilSeries *se0 = g_ptr_array_index(st->series, 0);
  const VigilSliceInfo *info = ((VigilSlice *)g_ptr_array_index(se0->slices, 0))->info;
  json_builder_begin_object(b);
  member_str(b, "study_uid", st->uid);
  member_str(b, "description", st->description);
  member_str(b, "date", st->date);
  member_str(b, "patient_name", st->patient_name);
  member_str(b, "patient_id", st->patient_id);
  member_str(b, "patient_sex", info->patient_sex);
  member_str(b, "patient_birth_date", info->patient_birth_date);
  json_builder_set_member_name(b, "series");
  json_builder_begin_array(b);
  for (guint i = 0; i < st->series->len; i++)
    json_series(b, g_ptr_array_index(st->series, i));
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static void print_json(const VigilScan *scan) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  member_int(b, "n_files", scan->n_files);
  json_builder_set_member_name(b, "studies");
  json_builder_begin_array(b);
  for (guint i = 0; i < scan->studies->len; i++)
    json_study(b, g_ptr_array_index(scan->studies, i));
  json_builder_end_array(b);
  json_builder_set_member_name(b, "errors");
  json_builder_begin_array(b);
  for (guint i = 0; i < scan->issues->len; i++) {
    const VigilScanIssue *issue = g_ptr_array_index(scan->issues, i);
    json_builder_begin_object(b);
    member_str(b, "path", issue->path);
    member_str(b, "message", issue->error->message);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  vigil_cli_print_json(b);
}

/* A radiologist must see it: pixels that went through lossy compression. */
static void print_lossy(const VigilSeries *se) {
  const VigilSliceInfo *lossy = NULL;
  const guint n = vigil_series_lossy_slices(se, &lossy);
  if (n == 0)
    return;
  printf("    LOSSY: %u of %u slice(s) went through lossy compression", n, se->slices->len);
  if (*lossy->lossy_method)
    printf(", method %s", lossy->lossy_method);
  if (lossy->lossy_ratio > 0)
    printf(", ratio %.4g:1", lossy->lossy_ratio);
  printf("\n");
}

static void print_series(const VigilSeries *se) {
  const VigilSliceInfo *info = ((VigilSlice *)g_ptr_array_index(se->slices, 0))->info;
  printf("  Series %s \"%s\" %s %s: %u slice(s) of %d x %d %s, pixel %.4g x %.4g mm, "
         "thickness %.4g mm, spacing %.4g mm, ordered by %s\n",
         se->uid, se->description, se->modality, info->body_part, se->slices->len, se->width,
         se->height, info->photometric, info->pixel_spacing[0], info->pixel_spacing[1],
         info->slice_thickness, se->slice_spacing, vigil_slice_order_name(se->order));
  g_autofree char *syntaxes = vigil_series_transfer_syntaxes(se);
  printf("    %s; %s; rescale %.6g x + %.6g\n", info->manufacturer[0] ? info->manufacturer : "?",
         syntaxes, info->rescale_slope, info->rescale_intercept);
  print_lossy(se);
  for (int i = 0; i < info->n_windows; i++)
    printf("    window %.6g / %.6g %s\n", info->windows[i].center, info->windows[i].width,
           info->windows[i].explanation);
  if (se->warning)
    printf("    warning: %s\n", se->warning);
  for (guint i = 0; i < se->slices->len; i++) {
    const VigilSlice *s = g_ptr_array_index(se->slices, i);
    printf("    [%u] %s", i, s->path);
    if (s->info->frames > 1)
      printf(" frame %d", s->frame);
    if (s->info->has_instance_number)
      printf(" #%d", s->info->instance_number);
    if (se->order == VIGIL_ORDER_POSITION)
      printf(" at %.4g mm", s->location);
    printf("\n");
  }
}

static void print_text(const VigilScan *scan) {
  for (guint i = 0; i < scan->studies->len; i++) {
    const VigilStudy *st = g_ptr_array_index(scan->studies, i);
    const VigilSeries *se0 = g_ptr_array_index(st->series, 0);
    const VigilSliceInfo *info = ((VigilSlice *)g_ptr_array_index(se0->slices, 0))->info;
    printf("Study %s \"%s\" date %s; patient \"%s\" ID %s sex %s born %s\n", st->uid,
           st->description, st->date, st->patient_name, st->patient_id, info->patient_sex,
           info->patient_birth_date);
    for (guint j = 0; j < st->series->len; j++)
      print_series(g_ptr_array_index(st->series, j));
  }
  for (guint i = 0; i < scan->issues->len; i++) {
    const VigilScanIssue *issue = g_ptr_array_index(scan->issues, i);
    fprintf(stderr, "vigil-cli info: %s: %s\n", issue->path, issue->error->message);
  }
}

int vigil_cli_info(int argc, char **argv) {
  gboolean as_json = FALSE;
  const GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print JSON", NULL},
      {NULL},
  };
  if (!vigil_cli_parse("info",
                       "list the studies, series and slices in files, folders or "
                       "DICOMDIRs",
                       entries, &argc, &argv))
    return VIGIL_CLI_USAGE;
  if (argc < 2) {
    fprintf(stderr, "vigil-cli info: give at least one PATH\n");
    return VIGIL_CLI_USAGE;
  }
  g_autoptr(VigilScan) scan = vigil_scan_open((const char *const *)argv + 1, 0);
  if (as_json)
    print_json(scan);
  else
    print_text(scan);
  if (vigil_scan_n_series(scan) == 0) {
    fprintf(stderr, "vigil-cli info: no images opened from %u file(s)\n", scan->n_files);
    return VIGIL_CLI_FAILED;
  }
  return VIGIL_CLI_OK;
}
