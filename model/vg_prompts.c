/* The lists are MVFA-AD's utils.py, verbatim and in its order. */
#include "vg_prompts.h"

#include <stdlib.h>
#include <string.h>

static const char *const normal_states[VG_PROMPT_NORMAL_STATES] = {
    "{}",
    "flawless {}",
    "perfect {}",
    "unblemished {}",
    "{} without flaw",
    "{} without defect",
    "{} without damage",
};

static const char *const abnormal_states[VG_PROMPT_ABNORMAL_STATES] = {
    "damaged {}", "broken {}", "{} with flaw", "{} with defect", "{} with damage",
};

static const char *const templates[VG_PROMPT_TEMPLATES] = {
    "a bad photo of a {}.",
    "a low resolution photo of the {}.",
    "a bad photo of the {}.",
    "a cropped photo of the {}.",
    "a bright photo of a {}.",
    "a dark photo of the {}.",
    "a photo of my {}.",
    "a photo of the cool {}.",
    "a close-up photo of a {}.",
    "a black and white photo of the {}.",
    "a bright photo of the {}.",
    "a cropped photo of a {}.",
    "a jpeg corrupted photo of a {}.",
    "a blurry photo of the {}.",
    "a photo of the {}.",
    "a good photo of the {}.",
    "a photo of one {}.",
    "a close-up photo of the {}.",
    "a photo of a {}.",
    "a low resolution photo of a {}.",
    "a photo of a large {}.",
    "a blurry photo of a {}.",
    "a jpeg corrupted photo of the {}.",
    "a good photo of a {}.",
    "a photo of the small {}.",
    "a photo of the large {}.",
    "a black and white photo of a {}.",
    "a dark photo of a {}.",
    "a photo of a cool {}.",
    "a photo of a small {}.",
    "there is a {} in the scene.",
    "there is the {} in the scene.",
    "this is a {} in the scene.",
    "this is the {} in the scene.",
    "this is one {} in the scene.",
};

static const struct {
  const char *dataset, *name;
} real_names[] = {
    {"Brain", "Brain"},
    {"Liver", "Liver"},
    {"Retina_RESC", "retinal OCT"},
    {"Chest", "Chest X-ray film"},
    {"Retina_OCT2017", "retinal OCT"},
    {"Histopathology", "histopathological image"},
};

int vg_prompt_count(vg_prompt_state state) {
  switch (state) {
  case VG_PROMPT_NORMAL: return VG_PROMPT_NORMAL_STATES * VG_PROMPT_TEMPLATES;
  case VG_PROMPT_ABNORMAL: return VG_PROMPT_ABNORMAL_STATES * VG_PROMPT_TEMPLATES;
  }
  return 0;
}

const char *vg_prompt_template(int i) {
  return i >= 0 && i < VG_PROMPT_TEMPLATES ? templates[i] : NULL;
}

const char *vg_prompt_state_phrase(vg_prompt_state state, int i) {
  if (state == VG_PROMPT_NORMAL && i >= 0 && i < VG_PROMPT_NORMAL_STATES)
    return normal_states[i];
  if (state == VG_PROMPT_ABNORMAL && i >= 0 && i < VG_PROMPT_ABNORMAL_STATES)
    return abnormal_states[i];
  return NULL;
}

const char *vg_prompts_class_name(const char *dataset) {
  for (size_t i = 0; dataset && i < sizeof real_names / sizeof real_names[0]; i++)
    if (strcmp(dataset, real_names[i].dataset) == 0)
      return real_names[i].name;
  return NULL;
}

/* Python's fmt.format(arg) for a fmt with a single "{}": arg goes in verbatim. */
static char *format1(const char *fmt, const char *arg) {
  const char *hole = strstr(fmt, "{}");
  size_t before = (size_t)(hole - fmt), na = strlen(arg), after = strlen(hole + 2);
  char *s = malloc(before + na + after + 1);
  if (!s)
    return NULL;
  memcpy(s, fmt, before);
  memcpy(s + before, arg, na);
  memcpy(s + before + na, hole + 2, after + 1);
  return s;
}

void vg_prompts_free(char **texts, int count) {
  for (int i = 0; texts && i < count; i++)
    free(texts[i]);
  free(texts);
}

vg_status vg_prompts_generate(const char *class_name, vg_prompt_state state, char ***out_texts,
                              int *out_count) {
  if (!class_name || !out_texts || !out_count)
    return vg_fail(VG_ERR_ARG, "vg_prompts_generate: NULL argument");
  int count = vg_prompt_count(state);
  if (count == 0)
    return vg_fail(VG_ERR_ARG, "vg_prompts_generate: invalid prompt state %d", (int)state);
  if (strnlen(class_name, VG_PROMPT_MAX_CLASS_BYTES + 1) > VG_PROMPT_MAX_CLASS_BYTES)
    return vg_fail(VG_ERR_ARG, "class name is longer than %d bytes", VG_PROMPT_MAX_CLASS_BYTES);
  char **texts = calloc((size_t)count, sizeof *texts);
  if (!texts)
    return vg_fail(VG_ERR_NOMEM, "out of memory for prompts");
  for (int k = 0; k < count; k++) {
    char *phrase = format1(vg_prompt_state_phrase(state, k / VG_PROMPT_TEMPLATES), class_name);
    texts[k] = phrase ? format1(templates[k % VG_PROMPT_TEMPLATES], phrase) : NULL;
    free(phrase);
    if (!texts[k]) {
      vg_prompts_free(texts, k);
      return vg_fail(VG_ERR_NOMEM, "out of memory for prompts");
    }
  }
  *out_texts = texts;
  *out_count = count;
  return VG_OK;
}
