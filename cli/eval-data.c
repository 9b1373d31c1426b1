/* vigil-cli calibrate and eval: MVFA's evaluation layout, the few-shot
 * references, and scoring a split (vigil-cli-eval.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vigil-cli-eval.h"
#include "vigil-scan-images.h"

void vigil_cli_eval_set_clear(EvalSet *set) {
  g_clear_pointer(&set->paths, g_ptr_array_unref);
  g_clear_pointer(&set->masks, g_ptr_array_unref);
  g_clear_pointer(&set->labels, g_array_unref);
}

static int by_name(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of a folder, sorted; an empty array when it does not exist. */
static GPtrArray *list_files(const char *dir) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  for (const char *name; d && (name = g_dir_read_name(d));)
    if (name[0] != '.')
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, by_name);
  return names;
}

static void add_label(EvalSet *set, const char *root, gboolean abnormal) {
  g_autofree char *img = g_build_filename(root, abnormal ? "Ungood" : "good", "img", NULL);
  g_autofree char *masks = g_build_filename(root, "Ungood", "anomaly_mask", NULL);
  g_autoptr(GPtrArray) names = list_files(img);
  for (guint i = 0; i < names->len; i++) {
    const char *name = names->pdata[i];
    char *mask = abnormal ? g_build_filename(masks, name, NULL) : NULL;
    if (mask && !g_file_test(mask, G_FILE_TEST_IS_REGULAR))
      g_clear_pointer(&mask, g_free);
    g_ptr_array_add(set->paths, g_build_filename(img, name, NULL));
    g_ptr_array_add(set->masks, mask);
    guint8 label = abnormal;
    g_array_append_val(set->labels, label);
  }
}

gboolean vigil_cli_eval_set_load(const char *dir, const char *split, EvalSet *set, GError **error) {
  g_autofree char *root = g_build_filename(dir, split, NULL);
  set->paths = g_ptr_array_new_with_free_func(g_free);
  set->masks = g_ptr_array_new_with_free_func(g_free);
  set->labels = g_array_new(FALSE, FALSE, 1);
  add_label(set, root, FALSE);
  guint normal = set->paths->len;
  add_label(set, root, TRUE);
  if (normal == 0 || set->paths->len == normal) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "%s: expected images in good/img/ and Ungood/img/ (found %u and %u)", root, normal,
                set->paths->len - normal);
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_cli_eval_set_has_masks(const EvalSet *set) {
  for (guint i = 0; i < set->paths->len; i++)
    if (g_array_index(set->labels, guint8, i) && !set->masks->pdata[i])
      return FALSE;
  return TRUE;
}

void vigil_cli_eval_set_remove(EvalSet *set, GPtrArray *paths) {
  for (guint i = set->paths->len; i-- > 0;)
    for (guint k = 0; paths && k < paths->len; k++)
      if (g_str_equal(set->paths->pdata[i], paths->pdata[k])) {
        g_ptr_array_remove_index(set->paths, i);
        g_ptr_array_remove_index(set->masks, i);
        g_array_remove_index(set->labels, i);
        break;
      }
}

/* Fisher-Yates with the seed: the same K for the same seed and folder. */
static GPtrArray *choose_references(const char *dir, int shots, int seed, GError **error) {
  g_autofree char *good = g_build_filename(dir, "valid", "good", "img", NULL);
  g_autoptr(GPtrArray) names = list_files(good);
  if ((int)names->len < shots) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "%s holds %u images; %d references asked for", good, names->len, shots);
    return NULL;
  }
  g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)seed);
  for (guint i = names->len; i > 1; i--) {
    guint j = (guint)g_rand_int_range(rng, 0, (gint32)i);
    gpointer t = names->pdata[i - 1];
    names->pdata[i - 1] = names->pdata[j], names->pdata[j] = t;
  }
  GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
  for (int k = 0; k < shots; k++)
    g_ptr_array_add(paths, g_build_filename(good, names->pdata[k], NULL));
  return paths;
}

static GPtrArray *read_list(const char *list_file, GError **error) {
  g_autofree char *text = NULL;
  if (!g_file_get_contents(list_file, &text, NULL, error))
    return NULL;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
  for (int i = 0; lines[i]; i++)
    if (*g_strstrip(lines[i]))
      g_ptr_array_add(paths, g_strdup(lines[i]));
  return paths;
}

vg_membank *vigil_cli_eval_bank(VigilEngine *engine, const char *dir, int shots, int seed,
                                const char *list_file, GPtrArray **chosen, GError **error) {
  g_autoptr(GPtrArray) paths =
      list_file ? read_list(list_file, error) : choose_references(dir, shots, seed, error);
  if (!paths)
    return NULL;
  vg_membank *bank = vigil_engine_new_bank(engine, error);
  for (guint i = 0; bank && i < paths->len; i++)
    if (!vigil_cli_add_reference(engine, bank, paths->pdata[i], TRUE, NULL, error)) {
      g_prefix_error(error, "reference %s: ", (const char *)paths->pdata[i]);
      vigil_engine_free_bank(engine, bank);
      bank = NULL;
    }
  if (bank && chosen)
    *chosen = g_ptr_array_ref(paths);
  return bank;
}

/* A mask at the maps' side: nearest neighbour, nonzero above half scale
 * (MVFA thresholds its 0..1 mask tensor at 0.5). */
static guint8 *load_mask(const char *path, int side, GError **error) {
  VigilWindowLevel w;
  g_autoptr(VigilImage) m = vigil_scan_load_slice(path, NULL, 0, &w, error);
  if (!m)
    return NULL;
  guint8 *mask = g_new(guint8, (gsize)side * side);
  const int ch = vigil_image_channels(m);
  const double half = m->max_value > 255 ? 32767.5 : 127.5;
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++) {
      gsize sx = (gsize)x * m->width / side, sy = (gsize)y * m->height / side;
      mask[(gsize)y * side + x] = m->values[(sy * m->width + sx) * ch] > half;
    }
  return mask;
}

static void progress(const char *command, const char *what, guint done, guint n) {
  fprintf(stderr, "\rvigil-cli %s: %s %u/%u", command, what, done, n);
  if (done == n)
    fputc('\n', stderr);
  fflush(stderr);
}

/* One group of images through one batched forward. */
static gboolean score_group(VigilEngine *engine, const float *text, const vg_membank *bank,
                            const EvalSet *set, const guint *index, int n, gboolean keep_maps,
                            EvalScore *out, int *side, GError **error) {
  g_autofree float **inputs = g_new0(float *, n);
  g_autofree VigilDetection **d = g_new0(VigilDetection *, n);
  gboolean ok = TRUE;
  for (int i = 0; ok && i < n; i++)
    ok = (inputs[i] = vigil_cli_load_input(set->paths->pdata[index[i]], NULL, 0, NULL, engine,
                                           error)) != NULL;
  ok = ok && vigil_engine_analyse_batch(engine, n, (const float *const *)inputs, text, bank, NULL,
                                        d, error);
  for (int i = 0; ok && i < n; i++) {
    EvalScore *s = out + index[i];
    const gsize plane = (gsize)d[i]->side * d[i]->side;
    *side = d[i]->side;
    s->zero = d[i]->zero_score, s->few = d[i]->has_few ? d[i]->few_score : 0;
    if (keep_maps) {
      s->zero_map = g_memdup2(d[i]->zero_map, plane * sizeof(float));
      s->few_map = d[i]->has_few ? g_memdup2(d[i]->few_map, plane * sizeof(float)) : NULL;
      const char *mask = set->masks->pdata[index[i]];
      s->mask = mask ? load_mask(mask, d[i]->side, error) : g_new0(guint8, plane);
      ok = s->mask != NULL;
    }
  }
  for (int i = 0; i < n; i++)
    g_free(inputs[i]), vigil_detection_free(d[i]);
  return ok;
}

EvalScore *vigil_cli_eval_score(const char *command, const char *what, VigilEngine *engine,
                                const float *text, const vg_membank *bank, const EvalSet *set,
                                gboolean keep_maps, int *side, GError **error) {
  const guint n = set->paths->len;
  EvalScore *scores = g_new0(EvalScore, n);
  g_autofree guint *index = g_new(guint, n);
  for (guint i = 0; i < n; i++)
    index[i] = i;
  gboolean ok = TRUE;
  for (guint first = 0, group = 0; ok && first < n; first += group) {
    group = MIN((guint)vigil_engine_batch_limit(engine), n - first);
    ok = score_group(engine, text, bank, set, index + first, (int)group, keep_maps, scores, side,
                     error);
    if (ok)
      progress(command, what, first + group, n);
    vigil_cli_report_fallback(command, engine);
  }
  if (!ok) {
    vigil_cli_eval_scores_free(scores, n);
    return NULL;
  }
  return scores;
}

void vigil_cli_eval_scores_free(EvalScore *scores, guint n) {
  for (guint i = 0; scores && i < n; i++)
    g_free(scores[i].zero_map), g_free(scores[i].few_map), g_free(scores[i].mask);
  g_free(scores);
}
