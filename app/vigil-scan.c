/* Opening paths: collect files (folders recursively, DICOMDIR references),
 * read DICOM headers, group by study and series, split inconsistent series.
 * Declared in vigil-scan.h. */
#include "vigil-scan.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil-scan-error.h"
#include "vigil-scan-images.h"

#define MAX_DEPTH 32

typedef struct {
  GPtrArray *files; /* paths to read, in order */
  GHashTable *seen; /* real paths already listed */
  VigilScan *scan;
} Collector;

static void add_issue(VigilScan *scan, const char *path, GError *error) {
  VigilScanIssue *issue = g_new0(VigilScanIssue, 1);
  issue->path = g_strdup(path);
  issue->error = error;
  g_ptr_array_add(scan->issues, issue);
}

static void issue_free(gpointer data) {
  VigilScanIssue *issue = data;
  g_free(issue->path);
  g_clear_error(&issue->error);
  g_free(issue);
}

static void add_file(Collector *c, const char *path) {
  char *real = realpath(path, NULL);
  char *key = real ? real : g_strdup(path);
  if (g_hash_table_contains(c->seen, key)) {
    free(key);
    return;
  }
  g_hash_table_add(c->seen, g_strdup(key));
  free(key);
  g_ptr_array_add(c->files, g_strdup(path));
}

static int cmp_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static gboolean is_dicomdir_name(const char *path) {
  g_autofree char *base = g_path_get_basename(path);
  return g_ascii_strcasecmp(base, "DICOMDIR") == 0;
}

static void walk(Collector *c, const char *dir_path, int depth) {
  GError *error = NULL;
  GDir *dir = g_dir_open(dir_path, 0, &error);
  if (!dir) {
    add_issue(c->scan, dir_path,
              g_error_new(VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_IO, "cannot read the folder: %s",
                          error->message));
    g_error_free(error);
    return;
  }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (const char *name; (name = g_dir_read_name(dir));)
    if (name[0] != '.')
      g_ptr_array_add(names, g_build_filename(dir_path, name, NULL));
  g_dir_close(dir);
  g_ptr_array_sort(names, cmp_names);
  for (guint i = 0; i < names->len; i++) {
    const char *path = g_ptr_array_index(names, i);
    if (g_file_test(path, G_FILE_TEST_IS_SYMLINK) && g_file_test(path, G_FILE_TEST_IS_DIR))
      continue; /* no symlink loops */
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
      if (depth < MAX_DEPTH)
        walk(c, path, depth + 1);
    } else if (!is_dicomdir_name(path) && /* its images are in the folder anyway */
               g_file_test(path, G_FILE_TEST_IS_REGULAR)) { /* a FIFO would block reading */
      add_file(c, path);
    }
  }
}

static void collect(Collector *c, const char *path) {
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    walk(c, path, 0);
    return;
  }
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    add_issue(c->scan, path,
              g_error_new_literal(VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_IO, "no such file or folder"));
    return;
  }
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
    add_issue(c->scan, path,
              g_error_new_literal(VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_IO,
                                  "not a regular file (a pipe, socket or device)"));
    return;
  }
  if (!is_dicomdir_name(path)) {
    add_file(c, path);
    return;
  }
  GError *error = NULL;
  g_auto(GStrv) refs = vigil_dicom_read_dicomdir(path, &error);
  if (!refs) {
    add_issue(c->scan, path, error);
    return;
  }
  for (char **r = refs; *r; r++)
    add_file(c, *r);
}

/* ---- grouping ---- */

typedef struct {
  VigilStudy *study;
  GHashTable *series; /* group key -> VigilSeries* */
} StudyGroup;

static void study_free(gpointer data) {
  VigilStudy *study = data;
  g_free(study->uid);
  g_free(study->description);
  g_free(study->date);
  g_free(study->patient_name);
  g_free(study->patient_id);
  g_ptr_array_unref(study->series);
  g_free(study);
}

static VigilStudy *study_new(const VigilSliceInfo *info) {
  VigilStudy *study = g_new0(VigilStudy, 1);
  study->uid = g_strdup(info->study_uid);
  study->description = g_strdup(info->study_description);
  study->date = g_strdup(info->study_date);
  study->patient_name = g_strdup(info->patient_name);
  study->patient_id = g_strdup(info->patient_id);
  study->series = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_series_free);
  return study;
}

/* Slices of one series must share size, colour and orientation to stack. */
static char *geometry_key(const VigilSliceInfo *info) {
  GString *key = g_string_new(NULL);
  g_string_append_printf(key, "%dx%d:%d", info->cols, info->rows, info->samples_per_pixel);
  for (int i = 0; info->has_orientation && i < 6; i++)
    g_string_append_printf(key, ":%.3f", info->orientation[i] + 0.0); /* + 0.0: no "-0.000" */
  return g_string_free(key, FALSE);
}

static VigilSeries *series_for(VigilScan *scan, GHashTable *studies, const VigilSliceInfo *info,
                               VigilSliceCache *cache) {
  StudyGroup *group = g_hash_table_lookup(studies, info->study_uid);
  if (!group) {
    group = g_new0(StudyGroup, 1);
    group->study = study_new(info);
    group->series = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert(studies, g_strdup(info->study_uid), group);
    g_ptr_array_add(scan->studies, group->study);
  }
  g_autofree char *geometry = geometry_key(info);
  g_autofree char *dir = info->series_uid[0] ? NULL : g_path_get_dirname(info->path);
  char *key = g_strdup_printf("%s|%s|%s", info->series_uid, dir ? dir : "", geometry);
  VigilSeries *series = g_hash_table_lookup(group->series, key);
  if (series) {
    g_free(key);
    return series;
  }
  series = vigil_series_new(info->series_uid, cache);
  g_free(series->description);
  g_free(series->modality);
  series->description = g_strdup(info->series_description);
  series->modality = g_strdup(info->modality);
  series->width = info->cols;
  series->height = info->rows;
  series->color = info->samples_per_pixel == 3;
  g_hash_table_insert(group->series, key, series);
  g_ptr_array_add(group->study->series, series);
  return series;
}

static void study_group_free(gpointer data) {
  StudyGroup *group = data;
  g_hash_table_destroy(group->series);
  g_free(group);
}

/* Series sharing a UID but not a geometry were split: say so on each part. */
static void flag_splits(VigilStudy *study) {
  for (guint i = 0; i < study->series->len; i++) {
    VigilSeries *a = g_ptr_array_index(study->series, i);
    guint parts = 0;
    GString *sizes = g_string_new(NULL);
    for (guint j = 0; j < study->series->len; j++) {
      VigilSeries *b = g_ptr_array_index(study->series, j);
      if (strcmp(a->uid, b->uid) != 0)
        continue;
      parts++;
      const VigilSliceInfo *info = ((VigilSlice *)g_ptr_array_index(b->slices, 0))->info;
      g_string_append_printf(sizes, "%s%d x %d%s", sizes->len ? ", " : "", b->width, b->height,
                             b->color ? " colour" : "");
      for (int k = 0; info && info->has_orientation && k < 6; k++)
        g_string_append_printf(sizes, "%s%.3g%s", k ? " " : " orientation (",
                               info->orientation[k] + 0.0, k == 5 ? ")" : "");
      g_string_append_printf(sizes, " %u slice(s)", b->slices->len);
    }
    if (parts > 1) {
      g_autofree char *text = g_strdup_printf(
          "series split into %u parts that differ in image size, colour or orientation: %s", parts,
          sizes->str);
      char *joined = a->warning ? g_strdup_printf("%s; %s", a->warning, text) : g_strdup(text);
      g_free(a->warning);
      a->warning = joined;
    }
    g_string_free(sizes, TRUE);
  }
}

/* ---- incremental building (see VigilScanBuilder in vigil-scan.h) ---- */

struct _VigilScanBuilder {
  VigilScan *scan;
  VigilSliceCache *cache;
  GHashTable *studies;   /* study UID -> StudyGroup* */
  GHashTable *instances; /* SOP Instance UID -> first path */
  GHashTable *touched;   /* VigilStudy* whose series changed since the last settle */
};

VigilScan *vigil_scan_new(void) {
  VigilScan *scan = g_new0(VigilScan, 1);
  scan->studies = g_ptr_array_new_with_free_func(study_free);
  scan->issues = g_ptr_array_new_with_free_func(issue_free);
  scan->infos = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_slice_info_free);
  return scan;
}

VigilScanBuilder *vigil_scan_builder_new(VigilScan *scan, VigilSliceCache *cache) {
  VigilScanBuilder *b = g_new0(VigilScanBuilder, 1);
  b->scan = scan;
  b->cache = vigil_slice_cache_ref(cache);
  b->studies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, study_group_free);
  b->instances = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  b->touched = g_hash_table_new(NULL, NULL);
  return b;
}

void vigil_scan_builder_free(VigilScanBuilder *b) {
  if (!b)
    return;
  vigil_slice_cache_unref(b->cache);
  g_hash_table_destroy(b->studies);
  g_hash_table_destroy(b->instances);
  g_hash_table_destroy(b->touched);
  g_free(b);
}

/* The same image twice (a copied file, another encoding) would stack twice. */
static gboolean is_duplicate(VigilScanBuilder *b, VigilSliceInfo *info) {
  if (!info->sop_instance_uid[0])
    return FALSE;
  const char *first = g_hash_table_lookup(b->instances, info->sop_instance_uid);
  if (!first) {
    g_hash_table_insert(b->instances, g_strdup(info->sop_instance_uid), g_strdup(info->path));
    return FALSE;
  }
  add_issue(b->scan, info->path,
            g_error_new(VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID,
                        "same SOP Instance UID as %s: left out as a duplicate", first));
  return TRUE;
}

VigilSeries *vigil_scan_builder_add(VigilScanBuilder *b, VigilSliceInfo *info, gboolean *is_new) {
  if (is_new)
    *is_new = FALSE;
  if (is_duplicate(b, info)) {
    vigil_slice_info_free(info);
    return NULL;
  }
  g_ptr_array_add(b->scan->infos, info);
  guint before = vigil_scan_n_series(b->scan);
  VigilSeries *series = series_for(b->scan, b->studies, info, b->cache);
  if (is_new)
    *is_new = vigil_scan_n_series(b->scan) != before;
  StudyGroup *group = g_hash_table_lookup(b->studies, info->study_uid);
  g_hash_table_add(b->touched, group->study);
  for (int f = 0; f < info->frames; f++) {
    VigilSlice *slice = vigil_slice_new(&vigil_dicom_pixel_source, info->path, f, NULL, NULL);
    slice->info = info;
    g_ptr_array_add(series->slices, slice);
  }
  return series;
}

/* Sorting appends warnings, so each settle starts the changed studies afresh. */
void vigil_scan_builder_settle(VigilScanBuilder *b) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, b->touched);
  while (g_hash_table_iter_next(&iter, &key, NULL)) {
    VigilStudy *study = key;
    for (guint j = 0; j < study->series->len; j++) {
      VigilSeries *series = g_ptr_array_index(study->series, j);
      g_clear_pointer(&series->warning, g_free);
      vigil_series_sort(series);
    }
    flag_splits(study);
  }
  g_hash_table_remove_all(b->touched);
}

VigilSliceInfo *vigil_scan_read_header(VigilScan *scan, const char *path, VigilSliceCache *cache) {
  GError *error = NULL;
  VigilSliceInfo *info = vigil_dicom_read_info(path, &error);
  if (!info && vigil_file_kind(path) != VIGIL_FILE_UNKNOWN) {
    g_clear_error(&error); /* not DICOM, but an image or volume we read */
    if (!vigil_scan_add_image_file(scan, path, cache, &error))
      add_issue(scan, path, error);
    return NULL;
  }
  if (!info)
    add_issue(scan, path, error);
  return info;
}

GPtrArray *vigil_scan_collect(VigilScan *scan, const char *const *paths) {
  Collector c = {g_ptr_array_new_with_free_func(g_free),
                 g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL), scan};
  for (const char *const *p = paths; p && *p; p++)
    collect(&c, *p);
  g_hash_table_destroy(c.seen);
  return c.files;
}

void vigil_scan_merge(VigilScan *into, VigilScan *from) {
  g_ptr_array_extend_and_steal(into->studies, g_steal_pointer(&from->studies));
  g_ptr_array_extend_and_steal(into->issues, g_steal_pointer(&from->issues));
  g_ptr_array_extend_and_steal(into->infos, g_steal_pointer(&from->infos));
  into->n_files += from->n_files;
  g_free(from);
}

VigilScan *vigil_scan_open(const char *const *paths, gsize cache_bytes) {
  VigilScan *scan = vigil_scan_new();
  g_autoptr(GPtrArray) files = vigil_scan_collect(scan, paths);
  scan->n_files = files->len;
  VigilSliceCache *cache = vigil_slice_cache_new(cache_bytes);
  VigilScanBuilder *b = vigil_scan_builder_new(scan, cache);
  vigil_slice_cache_unref(cache);
  for (guint i = 0; i < files->len; i++) {
    VigilSliceInfo *info = vigil_scan_read_header(scan, g_ptr_array_index(files, i), b->cache);
    if (info)
      vigil_scan_builder_add(b, info, NULL);
  }
  vigil_scan_builder_settle(b);
  vigil_scan_builder_free(b);
  return scan;
}

void vigil_scan_free(VigilScan *scan) {
  if (!scan)
    return;
  g_ptr_array_unref(scan->studies); /* series before the infos their slices borrow */
  g_ptr_array_unref(scan->issues);
  g_ptr_array_unref(scan->infos);
  g_free(scan);
}

guint vigil_scan_n_series(const VigilScan *scan) {
  guint n = 0;
  for (guint i = 0; i < scan->studies->len; i++)
    n += ((VigilStudy *)g_ptr_array_index(scan->studies, i))->series->len;
  return n;
}

/* The series in scan order, stopping where `stop` says so: its position, or -1. */
static int walk_series(const VigilScan *scan, gboolean (*stop)(const VigilSeries *, gconstpointer),
                       gconstpointer data, VigilSeries **found) {
  int pos = 0;
  for (guint i = 0; scan && i < scan->studies->len; i++) {
    VigilStudy *study = g_ptr_array_index(scan->studies, i);
    for (guint j = 0; j < study->series->len; j++, pos++) {
      VigilSeries *series = g_ptr_array_index(study->series, j);
      if (stop(series, data)) {
        *found = series;
        return pos;
      }
    }
  }
  return -1;
}

static gboolean has_uid(const VigilSeries *series, gconstpointer uid) {
  return g_strcmp0(series->uid, uid) == 0;
}

static gboolean is_series(const VigilSeries *series, gconstpointer wanted) {
  return series == wanted;
}

VigilSeries *vigil_scan_find_series(const VigilScan *scan, const char *uid) {
  VigilSeries *found = NULL;
  walk_series(scan, has_uid, uid, &found);
  return found;
}

int vigil_scan_series_position(const VigilScan *scan, const VigilSeries *series) {
  VigilSeries *found = NULL;
  return walk_series(scan, is_series, series, &found);
}
