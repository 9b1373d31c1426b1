/* MVFA's text prompt ensemble (encode_text_with_prompt_ensemble in MVFA-AD's utils.py): every
 * state phrase of a class, formatted into each of 35 CLIP templates, in MVFA's order (state
 * major, template minor). The text tower averages the embeddings of each list. */
#pragma once

#include "vg_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_prompt_state {
  VG_PROMPT_NORMAL = 0,   /* "{}", "flawless {}", ... 7 phrases */
  VG_PROMPT_ABNORMAL = 1, /* "damaged {}", "broken {}", ... 5 phrases */
} vg_prompt_state;

enum {
  VG_PROMPT_TEMPLATES = 35,
  VG_PROMPT_NORMAL_STATES = 7,
  VG_PROMPT_ABNORMAL_STATES = 5,
  VG_PROMPT_MAX_CLASS_BYTES = 1024,
};

/* How many prompts a state gives: 245 (normal), 175 (abnormal); 0 for an invalid state. */
int vg_prompt_count(vg_prompt_state state);

/* The prompts for `class_name` (e.g. "Brain"): a malloc'd array of *out_count malloc'd
 * strings, released with vg_prompts_free. Prompt k is template[k % 35] formatted with
 * phrase[k / 35], the phrase formatted with the class name (inserted verbatim). */
vg_status vg_prompts_generate(const char *class_name, vg_prompt_state state, char ***out_texts,
                              int *out_count);
void vg_prompts_free(char **texts, int count);

/* MVFA's REAL_NAME: the class name its prompts use for a dataset ("Brain", "Liver",
 * "Retina_RESC", "Retina_OCT2017", "Chest", "Histopathology"); NULL if unknown. */
const char *vg_prompts_class_name(const char *dataset);

/* Template i (0..34) and state phrase i of a state, each with one "{}"; NULL out of range. */
const char *vg_prompt_template(int i);
const char *vg_prompt_state_phrase(vg_prompt_state state, int i);

#ifdef __cplusplus
}
#endif
