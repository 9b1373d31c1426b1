#include "vigil-analyzer.h"

#include <stdlib.h>
#include <string.h>

#include "vigil-calibration.h"
#include "vigil-resize.h"

struct _VigilAnalyzer {
  GObject parent_instance;
  GMutex lock; /* guards engine and bank; held by a job for its whole run */
  VigilEngine *engine;
  vg_membank *bank;
  GHashTable *features; /* bank id -> VigilFeatures of each reference (calibration) */
  /* Removals asked for while a job held the bank: the UI thread must not
   * wait for a forward, so they are applied by the next holder of `lock`. */
  GMutex removal_lock;
  GArray *removals; /* guint64 ids */
  gint count;       /* references, removals counted: readable without `lock` */
  guint delay_ms;   /* VIGIL_TEST_ANALYSIS_DELAY_MS: a slow forward, for tests */
};

G_DEFINE_FINAL_TYPE(VigilAnalyzer, vigil_analyzer, G_TYPE_OBJECT)

VigilAnalyzer *vigil_analyzer_new(void) {
  return g_object_new(VIGIL_TYPE_ANALYZER, NULL);
}

VigilEngine *vigil_analyzer_get_engine(VigilAnalyzer *self) {
  return self->engine;
}

guint vigil_analyzer_reference_count(VigilAnalyzer *self) {
  return (guint)g_atomic_int_get(&self->count);
}

/* With `lock` held: apply queued removals, then publish the count. */
static void apply_removals(VigilAnalyzer *self) {
  g_mutex_lock(&self->removal_lock);
  for (guint i = 0; self->bank && i < self->removals->len; i++) {
    guint64 id = g_array_index(self->removals, guint64, i);
    vigil_engine_bank_remove(self->engine, self->bank, id, NULL);
    g_hash_table_remove(self->features, &id);
  }
  g_array_set_size(self->removals, 0);
  g_mutex_unlock(&self->removal_lock);
  g_atomic_int_set(&self->count, self->bank ? (gint)vg_membank_count(self->bank) : 0);
}

/* Takes the engine and bank for a job, with the bank as the UI last asked. */
static void hold(VigilAnalyzer *self) {
  g_mutex_lock(&self->lock);
  apply_removals(self);
}

static void release(VigilAnalyzer *self) {
  apply_removals(self);
  g_mutex_unlock(&self->lock);
}

/* ---- loading ---------------------------------------------------------------- */

typedef struct {
  VigilAnalyzer *self;
  char *clip, *adapters, *device;
  VigilPrecision precision;
  int threads;
} LoadWork;

static void load_work_free(gpointer data) {
  LoadWork *w = data;
  g_object_unref(w->self);
  g_free(w->clip), g_free(w->adapters), g_free(w->device);
  g_free(w);
}

static gboolean load_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                               GError **error) {
  (void)cancellable;
  LoadWork *w = data;
  VigilBackendOptions options;
  g_autofree char *device = NULL;
  if (!vigil_backend_options_from_setting(w->device, &options, &device, error))
    return FALSE;
  options.precision = w->precision;
  options.threads = w->threads;
  vigil_job_report_progress(job, -1, "Loading the model…");
  VigilEngine *engine = vigil_engine_open(w->clip, w->adapters, &options, error);
  if (!engine)
    return FALSE;
  vg_membank *bank = vigil_engine_new_bank(engine, error);
  if (!bank) {
    vigil_engine_free(engine);
    return FALSE;
  }
  hold(w->self);
  vigil_engine_free_bank(w->self->engine, w->self->bank);
  vigil_engine_free(w->self->engine);
  w->self->engine = engine;
  w->self->bank = bank;
  g_hash_table_remove_all(w->self->features);
  g_mutex_lock(&w->self->removal_lock); /* ids of the old bank mean nothing now */
  g_array_set_size(w->self->removals, 0);
  g_mutex_unlock(&w->self->removal_lock);
  release(w->self);
  return TRUE;
}

VigilJob *vigil_analyzer_load(VigilAnalyzer *self, const char *clip_path, const char *adapters_path,
                              const char *device_setting, VigilPrecision precision,
                              int cpu_threads) {
  LoadWork *w = g_new0(LoadWork, 1);
  w->self = g_object_ref(self);
  w->clip = g_strdup(clip_path);
  w->adapters = g_strdup(adapters_path);
  w->device = g_strdup(device_setting);
  w->precision = precision;
  w->threads = MAX(cpu_threads, 0);
  return vigil_job_new("Load model", load_in_thread, w, load_work_free);
}

/* ---- analysing and references ---------------------------------------------- */

typedef struct {
  VigilAnalyzer *self;
  VigilImage *image;
  double center, width;
  guint64 reference_id;
} ImageWork;

static void image_work_free(gpointer data) {
  ImageWork *w = data;
  g_object_unref(w->self);
  vigil_image_free(w->image);
  g_free(w);
}

/* Jobs work on their own copy: the caller's image may go meanwhile. */
static VigilImage *image_copy(const VigilImage *image) {
  VigilImage *c = vigil_image_new(image->width, image->height, image->kind, NULL);
  memcpy(c->values, image->values,
         (gsize)image->width * image->height * vigil_image_channels(image) * sizeof(float));
  c->min_value = image->min_value;
  c->max_value = image->max_value;
  return c;
}

static ImageWork *image_work_new(VigilAnalyzer *self, const VigilImage *image, double center,
                                 double width) {
  ImageWork *w = g_new0(ImageWork, 1);
  w->self = g_object_ref(self);
  w->image = image_copy(image);
  w->center = center;
  w->width = width;
  return w;
}

static VigilEngine *engine_or_error(VigilAnalyzer *self, GError **error) {
  if (!self->engine)
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_WEIGHTS,
                "no model is loaded: choose the CLIP weights and MVFA adapters in Preferences");
  return self->engine;
}

static VigilFeatures *features_of(ImageWork *w, VigilJob *job, GError **error) {
  VigilEngine *engine = engine_or_error(w->self, error);
  if (!engine)
    return NULL;
  vigil_job_report_progress(job, 0.2, "Preparing the model input…");
  g_autofree float *input = vigil_model_input(w->image, w->center, w->width, error);
  if (!input)
    return NULL;
  vigil_job_report_progress(job, 0.4, "Encoding the slice…");
  return vigil_engine_features(engine, input, error);
}

/* Several slices analysed in one job: their features come from batched
 * forwards (vigil_engine_batch_limit images each). */
typedef struct {
  VigilAnalyzer *self;
  GPtrArray *images; /* VigilImage */
  double center, width;
  char *class_name;
  gboolean few_shot;
  VigilDetection **results; /* one per image */
} BatchWork;

static void batch_work_free(gpointer data) {
  BatchWork *w = data;
  g_object_unref(w->self);
  for (guint i = 0; i < w->images->len; i++)
    vigil_detection_free(w->results[i]);
  g_ptr_array_unref(w->images);
  g_free(w->class_name), g_free(w->results);
  g_free(w);
}

/* Model inputs of every image (g_free each); NULL with the error on failure. */
static float **batch_inputs(BatchWork *w, GError **error) {
  const guint n = w->images->len;
  float **inputs = g_new0(float *, n ? n : 1);
  for (guint i = 0; i < n; i++)
    if (!(inputs[i] = vigil_model_input(w->images->pdata[i], w->center, w->width, error))) {
      for (guint j = 0; j < i; j++)
        g_free(inputs[j]);
      g_free(inputs);
      return NULL;
    }
  return inputs;
}

/* The test hook: a forward that takes `delay_ms` longer, cancellable. */
static gboolean test_delay(VigilAnalyzer *self, GCancellable *cancellable, GError **error) {
  for (guint t = 0; t < self->delay_ms; t += 10) {
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    g_usleep(10 * 1000);
  }
  return TRUE;
}

/* Encoding and scoring go to the engine as one call: on a GPU the tokens
 * stay there and only the maps come back. */
static gboolean analyse_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                                  GError **error) {
  BatchWork *w = data;
  const guint n = w->images->len;
  hold(w->self); /* the engine and bank stay while we use them */
  VigilEngine *engine = engine_or_error(w->self, error);
  g_autofree float *text = NULL;
  if (engine) {
    vigil_job_report_progress(job, 0.05, "Encoding the prompts…");
    text = vigil_engine_text_features(engine, w->class_name, cancellable, error);
  }
  float **inputs = NULL;
  if (text) {
    vigil_job_report_progress(job, 0.2, "Preparing the model input…");
    inputs = batch_inputs(w, error);
  }
  gboolean ok = inputs != NULL;
  if (ok)
    vigil_job_report_progress(
        job, 0.4, n > 1 ? "Encoding and scoring the slices…" : "Encoding and scoring the slice…");
  ok = ok && test_delay(w->self, cancellable, error) &&
       !g_cancellable_set_error_if_cancelled(cancellable, error);
  if (ok) {
    apply_removals(w->self); /* just before scoring: the bank as it is now */
    const vg_membank *bank = w->few_shot ? w->self->bank : NULL;
    ok = vigil_engine_analyse_batch(engine, (int)n, (const float *const *)inputs, text, bank, NULL,
                                    w->results, error);
  }
  release(w->self);
  for (guint i = 0; inputs && i < n; i++)
    g_free(inputs[i]);
  g_free(inputs);
  return ok;
}

VigilJob *vigil_analyzer_analyse_batch(VigilAnalyzer *self, const VigilImage *const *images,
                                       guint n, double center, double width, const char *class_name,
                                       gboolean few_shot) {
  BatchWork *w = g_new0(BatchWork, 1);
  w->self = g_object_ref(self);
  w->images = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_image_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(w->images, image_copy(images[i]));
  w->results = g_new0(VigilDetection *, n ? n : 1);
  w->center = center;
  w->width = width;
  w->class_name = g_strdup(class_name);
  w->few_shot = few_shot;
  VigilJob *job = vigil_job_new(n > 1 ? "Analyse slices" : "Analyse slice", analyse_in_thread, w,
                                batch_work_free);
  g_object_set_data(G_OBJECT(job), "vigil-batch", w);
  return job;
}

VigilJob *vigil_analyzer_analyse(VigilAnalyzer *self, const VigilImage *image, double center,
                                 double width, const char *class_name, gboolean few_shot) {
  return vigil_analyzer_analyse_batch(self, &image, 1, center, width, class_name, few_shot);
}

VigilDetection *vigil_analyzer_take_result_at(VigilAnalyzer *self, VigilJob *job, guint i) {
  (void)self;
  BatchWork *w = g_object_get_data(G_OBJECT(job), "vigil-batch");
  return w && i < w->images->len ? g_steal_pointer(&w->results[i]) : NULL;
}

VigilDetection *vigil_analyzer_take_result(VigilAnalyzer *self, VigilJob *job) {
  return vigil_analyzer_take_result_at(self, job, 0);
}

static gboolean reference_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                                    GError **error) {
  (void)cancellable;
  ImageWork *w = data;
  hold(w->self);
  g_autoptr(VigilFeatures) f = features_of(w, job, error);
  gboolean ok =
      f && vigil_engine_bank_add(w->self->engine, w->self->bank, f, &w->reference_id, error);
  if (ok) /* kept for calibrating on the references */
    g_hash_table_insert(w->self->features, g_memdup2(&w->reference_id, sizeof(guint64)),
                        g_steal_pointer(&f));
  release(w->self);
  return ok;
}

VigilJob *vigil_analyzer_add_reference(VigilAnalyzer *self, const VigilImage *image, double center,
                                       double width) {
  ImageWork *w = image_work_new(self, image, center, width);
  VigilJob *job = vigil_job_new("Add reference", reference_in_thread, w, image_work_free);
  g_object_set_data(G_OBJECT(job), "vigil-work", w);
  return job;
}

guint64 vigil_analyzer_take_reference_id(VigilAnalyzer *self, VigilJob *job) {
  (void)self;
  ImageWork *w = g_object_get_data(G_OBJECT(job), "vigil-work");
  return w ? w->reference_id : 0;
}

gboolean vigil_analyzer_remove_reference(VigilAnalyzer *self, guint64 id, GError **error) {
  if (!g_mutex_trylock(&self->lock)) {
    /* A job holds the bank: queue it; the job applies it before it scores. */
    g_mutex_lock(&self->removal_lock);
    g_array_append_val(self->removals, id);
    g_mutex_unlock(&self->removal_lock);
    g_atomic_int_add(&self->count, -1);
    return TRUE;
  }
  gboolean ok = self->bank && vigil_engine_bank_remove(self->engine, self->bank, id, NULL);
  g_hash_table_remove(self->features, &id);
  if (!ok)
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_INPUT,
                "no reference %" G_GUINT64_FORMAT, id);
  release(self);
  return ok;
}

/* ---- calibrating on the references ------------------------------------------ */

typedef struct {
  VigilAnalyzer *self;
  char *class_name;
  VigilCalibration *zero, *few;
} CalibrationWork;

static void calibration_work_free(gpointer data) {
  CalibrationWork *w = data;
  g_object_unref(w->self);
  g_free(w->class_name);
  vigil_calibration_free(w->zero), vigil_calibration_free(w->few);
  g_free(w);
}

static int by_id(gconstpointer a, gconstpointer b) {
  guint64 x = **(guint64 *const *)a, y = **(guint64 *const *)b;
  return (x > y) - (x < y);
}

/* The references' features in the order they were added (ids grow). */
static GPtrArray *reference_features(VigilAnalyzer *self) {
  guint n = 0;
  g_autofree gpointer *ids = g_hash_table_get_keys_as_array(self->features, &n);
  qsort(ids, n, sizeof *ids, by_id);
  GPtrArray *features = g_ptr_array_new();
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(features, g_hash_table_lookup(self->features, ids[i]));
  return features;
}

static gboolean calibrate_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                                    GError **error) {
  CalibrationWork *w = data;
  hold(w->self);
  VigilEngine *engine = engine_or_error(w->self, error);
  g_autofree float *text =
      engine ? vigil_engine_text_features(engine, w->class_name, cancellable, error) : NULL;
  g_autoptr(GPtrArray) refs = text ? reference_features(w->self) : NULL;
  if (refs)
    vigil_job_report_progress(job, 0.3, "Calibrating on the references…");
  gboolean ok = refs && !g_cancellable_set_error_if_cancelled(cancellable, error) &&
                vigil_calibration_from_references(engine, w->class_name, text, refs->len,
                                                  (VigilFeatures *const *)refs->pdata, &w->zero,
                                                  &w->few, error);
  release(w->self);
  return ok;
}

VigilJob *vigil_analyzer_calibrate(VigilAnalyzer *self, const char *class_name) {
  CalibrationWork *w = g_new0(CalibrationWork, 1);
  w->self = g_object_ref(self);
  w->class_name = g_strdup(class_name);
  VigilJob *job = vigil_job_new("Calibrate", calibrate_in_thread, w, calibration_work_free);
  g_object_set_data(G_OBJECT(job), "vigil-calibration", w);
  return job;
}

void vigil_analyzer_take_calibrations(VigilAnalyzer *self, VigilJob *job, VigilCalibration **zero,
                                      VigilCalibration **few) {
  (void)self;
  CalibrationWork *w = g_object_get_data(G_OBJECT(job), "vigil-calibration");
  *zero = w ? g_steal_pointer(&w->zero) : NULL;
  *few = w ? g_steal_pointer(&w->few) : NULL;
}

static void vigil_analyzer_finalize(GObject *object) {
  VigilAnalyzer *self = VIGIL_ANALYZER(object);
  vigil_engine_free_bank(self->engine, self->bank);
  vigil_engine_free(self->engine);
  g_hash_table_unref(self->features);
  g_array_unref(self->removals);
  g_mutex_clear(&self->removal_lock);
  g_mutex_clear(&self->lock);
  G_OBJECT_CLASS(vigil_analyzer_parent_class)->finalize(object);
}

static void vigil_analyzer_class_init(VigilAnalyzerClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = vigil_analyzer_finalize;
}

static void vigil_analyzer_init(VigilAnalyzer *self) {
  g_mutex_init(&self->lock);
  g_mutex_init(&self->removal_lock);
  self->removals = g_array_new(FALSE, FALSE, sizeof(guint64));
  self->features = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                         (GDestroyNotify)vigil_features_free);
  const char *delay = g_getenv("VIGIL_TEST_ANALYSIS_DELAY_MS");
  self->delay_ms = delay ? (guint)g_ascii_strtoull(delay, NULL, 10) : 0;
}
