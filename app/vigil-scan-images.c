#include "vigil-scan-images.h"

#include <stdio.h>
#include <string.h>

#include "vigil-jpeg.h"
#include "vigil-nifti.h"
#include "vigil-png.h"
#include "vigil-scan-error.h"

VigilFileKind vigil_file_kind(const char *path) {
  if (g_str_has_suffix(path, ".nii") || g_str_has_suffix(path, ".nii.gz") ||
      g_str_has_suffix(path, ".hdr") || g_str_has_suffix(path, ".hdr.gz"))
    return VIGIL_FILE_NIFTI;
  guint8 head[8] = {0};
  FILE *f = fopen(path, "rb");
  if (!f)
    return VIGIL_FILE_UNKNOWN;
  const size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  if (n == 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0)
    return VIGIL_FILE_PNG;
  if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF)
    return VIGIL_FILE_JPEG;
  return VIGIL_FILE_UNKNOWN;
}

static VigilImage *decode_png(const VigilSlice *slice, GError **error) {
  return vigil_png_load(slice->path, NULL, error);
}

static VigilImage *decode_jpeg(const VigilSlice *slice, GError **error) {
  return vigil_jpeg_load(slice->path, error);
}

/* NIfTI slices share one header, reference counted through an atomic rc box. */
static VigilImage *decode_nifti(const VigilSlice *slice, GError **error) {
  VigilNifti **nifti = slice->data;
  return vigil_nifti_read_slice(*nifti, slice->frame, error);
}

static const VigilPixelSource png_source = {"png", decode_png};
static const VigilPixelSource jpeg_source = {"jpeg", decode_jpeg};
static const VigilPixelSource nifti_source = {"nifti", decode_nifti};

static void clear_nifti(gpointer data) {
  vigil_nifti_free(*(VigilNifti **)data);
}

static void drop_nifti(gpointer data) {
  g_atomic_rc_box_release_full(data, clear_nifti);
}

/* A header in the DICOM shape, so lists, reports and sorting treat every
 * series alike; strings are "" where a plain file has nothing to say. */
static VigilSliceInfo *file_info(VigilScan *scan, const char *path, VigilFileKind kind, int width,
                                 int height, int frames, gboolean color) {
  VigilSliceInfo *info = g_new0(VigilSliceInfo, 1);
  char **strings[] = {&info->patient_name,        &info->patient_id,   &info->patient_sex,
                      &info->patient_birth_date,  &info->study_date,   &info->study_description,
                      &info->body_part,           &info->manufacturer, &info->sop_instance_uid,
                      &info->transfer_syntax_uid, &info->lossy_method, &info->institution,
                      &info->series_number};
  for (gsize i = 0; i < G_N_ELEMENTS(strings); i++)
    *strings[i] = g_strdup("");
  info->path = g_strdup(path);
  info->study_uid = g_strdup(path);
  info->series_uid = g_strdup(path);
  info->series_description = g_path_get_basename(path);
  info->modality = g_strdup(kind == VIGIL_FILE_NIFTI ? "NIfTI" : "OT");
  info->transfer_syntax_name = g_strdup(kind == VIGIL_FILE_PNG    ? "PNG"
                                        : kind == VIGIL_FILE_JPEG ? "JPEG"
                                                                  : "NIfTI");
  info->photometric = g_strdup(color ? "RGB" : "MONOCHROME2");
  info->lossy = kind == VIGIL_FILE_JPEG; /* a JPEG file is lossy by its nature */
  info->rows = height;
  info->cols = width;
  info->frames = frames;
  info->samples_per_pixel = color ? 3 : 1;
  info->rescale_slope = 1;
  info->has_pixel_data = TRUE;
  g_ptr_array_add(scan->infos, info);
  return info;
}

static VigilStudy *file_study(VigilScan *scan, const char *path) {
  VigilStudy *study = g_new0(VigilStudy, 1);
  study->uid = g_strdup(path);
  study->description = g_path_get_basename(path);
  study->date = g_strdup("");
  study->patient_name = g_strdup("");
  study->patient_id = g_strdup("");
  study->series = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_series_free);
  g_ptr_array_add(scan->studies, study);
  return study;
}

gboolean vigil_scan_add_image_file(VigilScan *scan, const char *path, VigilSliceCache *cache,
                                   GError **error) {
  const VigilFileKind kind = vigil_file_kind(path);
  g_autoptr(VigilNifti) nifti = NULL;
  int width = 0, height = 0, n_slices = 1;
  gboolean color = FALSE;
  if (kind == VIGIL_FILE_UNKNOWN) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_FORMAT,
                "%s: not a DICOM, PNG, JPEG or NIfTI file", path);
    return FALSE;
  }
  if (kind == VIGIL_FILE_NIFTI) {
    if (!(nifti = vigil_nifti_open(path, error)))
      return FALSE;
    n_slices = vigil_nifti_n_slices(nifti);
    vigil_nifti_slice_size(nifti, &width, &height);
  } else {
    /* 2-D images are small: decoding once checks them and gives the size. */
    g_autoptr(VigilImage) image =
        kind == VIGIL_FILE_PNG ? vigil_png_load(path, NULL, error) : vigil_jpeg_load(path, error);
    if (!image)
      return FALSE;
    width = image->width;
    height = image->height;
    color = image->kind == VIGIL_IMAGE_RGB;
  }
  VigilStudy *study = file_study(scan, path);
  VigilSeries *series = vigil_series_new(path, cache);
  g_free(series->description);
  series->description = g_path_get_basename(path);
  g_free(series->modality);
  series->modality = g_strdup(kind == VIGIL_FILE_NIFTI ? "NIfTI" : "OT");
  series->width = width;
  series->height = height;
  series->order = VIGIL_ORDER_FILE;
  series->color = color;
  VigilSliceInfo *info = file_info(scan, path, kind, width, height, n_slices, color);
  VigilNifti **shared = NULL;
  if (nifti) {
    shared = g_atomic_rc_box_new(VigilNifti *);
    *shared = g_steal_pointer(&nifti);
    series->normal[2] = 1; /* axial, in the volume's own frame */
    series->slice_spacing = vigil_nifti_slice_spacing(*shared);
    vigil_nifti_pixel_spacing(*shared, info->pixel_spacing);
    info->has_pixel_spacing = TRUE;
    vigil_nifti_orientation(*shared, info->orientation);
    info->has_orientation = TRUE;
    info->slice_thickness = series->slice_spacing;
  }
  for (int i = 0; i < n_slices; i++) {
    const VigilPixelSource *source = kind == VIGIL_FILE_PNG    ? &png_source
                                     : kind == VIGIL_FILE_JPEG ? &jpeg_source
                                                               : &nifti_source;
    gpointer data = shared ? g_atomic_rc_box_acquire(shared) : NULL;
    VigilSlice *slice = vigil_slice_new(source, path, i, data, shared ? drop_nifti : NULL);
    slice->info = info;
    g_ptr_array_add(series->slices, slice);
  }
  if (shared)
    drop_nifti(shared);
  g_ptr_array_add(study->series, series);
  return TRUE;
}

VigilWindowLevel vigil_series_default_window(const VigilSeries *series, const VigilImage *slice,
                                             const char **explanation) {
  const char *why = "automatic (1st-99th percentile)";
  VigilWindowLevel w = vigil_window_level_auto_percentiles(slice, 1, 99);
  const VigilSlice *first = series->slices->len ? g_ptr_array_index(series->slices, 0) : NULL;
  if (first && first->info && first->info->n_windows > 0) {
    w.center = first->info->windows[0].center;
    w.width = MAX(first->info->windows[0].width, 1);
    why = first->info->windows[0].explanation && *first->info->windows[0].explanation
              ? first->info->windows[0].explanation
              : "from the file";
  } else if (first && first->source == &nifti_source &&
             vigil_nifti_header_window(*(VigilNifti **)first->data, &w)) {
    why = "from the NIfTI header";
  } else if (first && (first->source == &png_source || first->source == &jpeg_source) &&
             slice->max_value <= 255) {
    w = vigil_window_level_full_range(8);
    why = "8-bit image as stored";
  }
  if (explanation)
    *explanation = why;
  return w;
}

static VigilSeries *find_series(VigilScan *scan, const char *uid) {
  for (guint i = 0; i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len; j++) {
      VigilSeries *s = g_ptr_array_index(study->series, j);
      if (!uid || g_strcmp0(s->uid, uid) == 0)
        return s;
    }
  }
  return NULL;
}

VigilImage *vigil_scan_load_slice(const char *path, const char *series_uid, int index,
                                  VigilWindowLevel *window, GError **error) {
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_IO, "%s: no such file or folder", path);
    return NULL;
  }
  const char *paths[] = {path, NULL};
  g_autoptr(VigilScan) scan = vigil_scan_open(paths, 64u << 20);
  VigilSeries *series = find_series(scan, series_uid);
  if (!series) {
    if (series_uid)
      g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID, "%s: no series %s", path,
                  series_uid);
    else if (scan->issues->len > 0) {
      const VigilScanIssue *issue = g_ptr_array_index(scan->issues, 0);
      const gboolean mentions_path = strstr(issue->error->message, issue->path) != NULL;
      g_set_error(error, VIGIL_SCAN_ERROR, issue->error->code, "%s%s%s",
                  mentions_path ? "" : issue->path, mentions_path ? "" : ": ",
                  issue->error->message);
    } else
      g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_FORMAT, "%s: no scans found", path);
    return NULL;
  }
  if (index < 0 || (guint)index >= series->slices->len) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID, "%s: slice %d is not in 0..%u",
                path, index, series->slices->len - 1);
    return NULL;
  }
  VigilImage *image = vigil_series_get_slice(series, (guint)index, error);
  if (image && window)
    *window = vigil_series_default_window(series, image, NULL);
  return image;
}
