/* vigil_engine_analyse_batch: a batch of images encoded and scored on the
 * device in one go, the adapter tokens never leaving it; off the device (or
 * after a fallback) features then scores on the host. */
#include "vigil-engine-private.h"

/* ---- encoding and scoring in one go ------------------------------------------ */

/* One fused analysis on the device; `during`/`what` name the step that failed. */
typedef struct {
  int n;
  const float *const *inputs;
  vg_clip_image_out *outs;   /* the host features wanted: all fields NULL for none */
  const vg_score_bank *bank; /* NULL: zero-shot only */
  VigilDetection **d;
  const char *during, *what;
  gboolean scoring; /* the step under way: scoring, else the encoder */
} DeviceAnalysis;

static void set_step(DeviceAnalysis *a, gboolean scoring) {
  a->scoring = scoring;
  a->during = scoring ? "in scoring" : "in the image encoder";
  a->what = scoring ? "scoring on the device" : "image encoder";
}

/* Scores image b of the encoder's last chunk from its tokens on the device. */
static vg_status score_image(VigilEngine *e, int b, const vg_score_bank *bank, VigilDetection *d) {
  const vg_tensor *seg[VG_CLIP_MAX_ADAPTERS], *det[VG_CLIP_MAX_ADAPTERS];
  int64_t row = 0;
  for (int l = 0; l < e->arch.n_adapters; l++) {
    vg_status s = vg_clip_image_tokens(e->clip, b, l, 0, &seg[l], &row);
    if (s == VG_OK)
      s = vg_clip_image_tokens(e->clip, b, l, 1, &det[l], &row);
    if (s != VG_OK)
      return s;
  }
  vg_score_out out = vigil_engine_score_out_of(d);
  vg_status s = vg_scorer_run_at(e->scorer, seg, det, row, bank, &out);
  d->zero_score = out.zero_score;
  d->few_score = out.few_score;
  d->on_device = TRUE;
  return s;
}

/* Each chunk of images through the encoder, then scored before the next
 * chunk overwrites its tokens (lock held). */
static vg_status analyse_on_device(VigilEngine *e, const float *text, DeviceAnalysis *a) {
  set_step(a, TRUE);
  vg_status s = vigil_engine_prepare_scorer(e, text);
  const int limit = vg_clip_batch_limit(e->clip); /* one encoder chunk per call */
  for (int done = 0; s == VG_OK && done < a->n; done += limit) {
    const int c = MIN(limit, a->n - done);
    set_step(a, FALSE);
    s = vg_clip_encode_images(e->clip, c, a->inputs + done, a->outs + done);
    if (s == VG_OK)
      set_step(a, TRUE);
    for (int b = 0; s == VG_OK && b < c; b++)
      s = score_image(e, b, a->bank, a->d[done + b]);
  }
  return s;
}

static void free_results(int n, VigilFeatures **features, VigilDetection **out) {
  for (int i = 0; i < n; i++) {
    g_clear_pointer(&out[i], vigil_detection_free);
    if (features)
      g_clear_pointer(&features[i], vigil_features_free);
  }
}

/* Features to the host, then scoring: the path off the device. */
static gboolean analyse_two_step(VigilEngine *e, int n, const float *const *inputs,
                                 const float *text, const vg_membank *bank,
                                 VigilFeatures **features, VigilDetection **out, GError **error) {
  g_autofree VigilFeatures **own = features ? NULL : g_new0(VigilFeatures *, n > 0 ? n : 1);
  VigilFeatures **f = features ? features : own;
  gboolean ok = vigil_engine_features_batch(e, n, inputs, f, error);
  for (int i = 0; ok && i < n; i++)
    ok = (out[i] = vigil_engine_detect(e, f[i], text, bank, error)) != NULL;
  for (int i = 0; own && i < n; i++)
    vigil_features_free(own[i]);
  return ok;
}

/* The fused path with the lock held; *done is FALSE where the host must do
 * it (off the device, or after a fallback to the CPU). */
static gboolean analyse_locked(VigilEngine *e, int n, const float *const *inputs, const float *text,
                               const vg_membank *bank, VigilFeatures **features,
                               VigilDetection **out, gboolean *done, GError **error) {
  const gboolean has_few = bank && vg_membank_count(bank) > 0;
  *done = FALSE;
  if (!vigil_engine_on_device(e) || (has_few && !vg_membank_mirrored(bank)))
    return TRUE; /* a bank without a device mirror is scored on the host */
  g_autofree vg_clip_image_out *outs = g_new0(vg_clip_image_out, n > 0 ? n : 1);
  for (int i = 0; i < n; i++) {
    if (features)
      features[i] = vigil_engine_features_new(e, &outs[i]);
    out[i] = vigil_engine_detection_new(e, has_few);
  }
  DeviceAnalysis a = {n,   inputs, outs, has_few ? vg_membank_mirrored(bank) : NULL,
                      out, NULL,   NULL, FALSE};
  vg_status s;
  /* An encoder chunk out of device memory: fewer images per forward, still on
   * the device (every output is written again). */
  while ((s = analyse_on_device(e, text, &a)) != VG_OK && !a.scoring &&
         vigil_engine_shrink_batch(e, n, s))
    ;
  if (s == VG_OK)
    return *done = TRUE;
  free_results(n, features, out);
  if (vigil_engine_can_fall_back(e, s))
    return vigil_engine_switch_to_cpu(e, a.during, error);
  return vigil_engine_fail(error, VIGIL_ENGINE_ERROR_COMPUTE, a.what);
}

gboolean vigil_engine_analyse_batch(VigilEngine *e, int n, const float *const *inputs,
                                    const float *text, const vg_membank *bank,
                                    VigilFeatures **features, VigilDetection **out,
                                    GError **error) {
  if (n < 0 || (n > 0 && (!inputs || !out)) || !text) {
    g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_INPUT,
                "analysis: no inputs, outputs or text features (%d images)", n);
    return FALSE;
  }
  for (int i = 0; i < n; i++)
    if (!inputs[i]) {
      g_set_error(error, VIGIL_ENGINE_ERROR, VIGIL_ENGINE_ERROR_INPUT,
                  "analysis: image %d has no pixels", i);
      return FALSE;
    }
  for (int i = 0; i < n; i++) {
    out[i] = NULL;
    if (features)
      features[i] = NULL;
  }
  gboolean done = FALSE;
  g_mutex_lock(&e->lock);
  gboolean ok = analyse_locked(e, n, inputs, text, bank, features, out, &done, error);
  g_mutex_unlock(&e->lock);
  if (ok && !done)
    ok = analyse_two_step(e, n, inputs, text, bank, features, out, error);
  if (!ok)
    free_results(n, features, out);
  return ok;
}
