/* MVFA's scoring on a backend: the zero- and few-shot maps and scores of
 * vg_score.h and vg_membank.h computed with backend ops, so on the Vulkan
 * backend the whole scoring runs as shaders, recorded as one batch with the
 * results downloaded once at the end.
 *
 * vg_score_bank holds a memory bank's rows on the backend: a reference's rows
 * are uploaded once when it is added, and removing one moves the later rows
 * down on the device. vg_scorer holds the text features and the scratch
 * tensors for one shape; one query at a time (not thread-safe). */
#pragma once

#include <stddef.h>

#include "vg_backend.h"
#include "vg_score.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_score_bank vg_score_bank;

vg_status vg_score_bank_new(vg_backend *be, const vg_score_shape *shape, vg_score_bank **out);
void vg_score_bank_free(vg_score_bank *bank);
/* Appends one reference: seg[l] and det[l] are its (1+G*G) x C rows of layer
 * l, already L2-normalised (vg_membank's stored rows), uploaded as they are. */
vg_status vg_score_bank_append(vg_score_bank *bank, const float *const *seg,
                               const float *const *det);
/* Drops the reference at `index` (0 = the oldest still held). */
vg_status vg_score_bank_drop(vg_score_bank *bank, size_t index);
size_t vg_score_bank_count(const vg_score_bank *bank);

typedef struct vg_scorer vg_scorer;

vg_status vg_scorer_new(vg_backend *be, const vg_score_shape *shape, vg_scorer **out);
void vg_scorer_free(vg_scorer *scorer);
/* text: C x 2 as in vg_score.h (column 0 normal, 1 abnormal); kept on the
 * backend until the next call. */
vg_status vg_scorer_set_text(vg_scorer *scorer, const float *text);

/* Caller-owned outputs; NULL arrays are skipped. The few-shot ones are
 * written only when a non-empty bank is given. */
typedef struct vg_score_out {
  float *zero_layer_maps;   /* layers x S x S (vg_score_zero_seg) */
  float *zero_map;          /* S x S */
  float *zero_layer_scores; /* layers (vg_score_zero_det) */
  float zero_score;
  float *few_layer_maps; /* layers x S x S (vg_membank_query, seg head) */
  float *few_map;        /* S x S, seg head */
  float *few_det_map;    /* S x S, det head */
  float few_score;       /* mean of the det head's map */
} vg_score_out;

/* seg[l], det[l]: the query's (1+G*G) x C tokens of layer l, tensors on the
 * scorer's backend. bank: NULL or empty for zero-shot only. */
vg_status vg_scorer_run(vg_scorer *scorer, const vg_tensor *const *seg, const vg_tensor *const *det,
                        const vg_score_bank *bank, vg_score_out *out);
/* The same for a query stored from row `row` of the token tensors (which may
 * hold several images, e.g. an encoder's batch: vg_clip_image_tokens). */
vg_status vg_scorer_run_at(vg_scorer *scorer, const vg_tensor *const *seg,
                           const vg_tensor *const *det, int64_t row, const vg_score_bank *bank,
                           vg_score_out *out);
/* The same from host tokens, uploaded into the scorer's own tensors first. */
vg_status vg_scorer_run_host(vg_scorer *scorer, const float *const *seg, const float *const *det,
                             const vg_score_bank *bank, vg_score_out *out);

#ifdef __cplusplus
}
#endif
