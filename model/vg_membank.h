/* MVFA's few-shot memory bank: tokens of normal reference images, and the
 * patch-to-bank distance maps of a query image.
 *
 * Per layer, the bank holds ALL 1 + G*G token rows (CLS included) of every
 * reference, one bank from the seg tokens and one from the det tokens, as
 * MVFA's test code builds them. Rows are stored L2-normalised (norm clamped
 * at 1e-8 like its cos_sim), contiguously per head and layer, so a query is
 * one GEMM per layer (in blocks of bank rows) and a max reduction.
 * References are added and removed by id; removing one moves the later rows
 * down without recomputing anything. Not thread-safe for concurrent writes;
 * concurrent queries on an unchanging bank are fine. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vg_backend.h"
#include "vg_score.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most memory a bank may be sized for (rows of both heads, all layers). */
#define VG_MEMBANK_MAX_BYTES ((size_t)8 << 30)

typedef enum vg_head { VG_HEAD_SEG = 0, VG_HEAD_DET = 1 } vg_head;

typedef struct vg_membank vg_membank;

/* A bank for up to max_refs references of `shape`. Memory grows as
 * references are added; a max_refs whose rows would exceed
 * VG_MEMBANK_MAX_BYTES fails with VG_ERR_NOMEM and a message giving sizes. */
vg_status vg_membank_new(const vg_score_shape *shape, size_t max_refs, vg_membank **out);
void vg_membank_free(vg_membank *bank);

/* Adds one reference image: seg[l] and det[l] are its (1+G*G) x C tokens of
 * layer l. Its id (never reused by this bank) goes to *id. */
vg_status vg_membank_add(vg_membank *bank, const float *const *seg, const float *const *det,
                         uint64_t *id);
/* Removes the reference `id`; VG_ERR_ARG naming the id when it is not there. */
vg_status vg_membank_remove(vg_membank *bank, uint64_t id);

size_t vg_membank_count(const vg_membank *bank);
/* Bytes of normalised rows currently held (both heads, all layers). */
size_t vg_membank_bytes(const vg_membank *bank);
/* Ids in insertion order; `ids` holds count entries. */
const uint64_t *vg_membank_ids(const vg_membank *bank);

/* Bank rows per GEMM block (default 8192); smaller blocks bound a query's
 * scratch memory (G*G x rows floats). Exposed so tests cover the blocking. */
vg_status vg_membank_set_block_rows(vg_membank *bank, size_t rows);

/* Few-shot maps of a query image for one head. tokens[l]: the query's
 * (1+G*G) x C tokens of layer l for that head (its CLS row is ignored).
 * Per layer: distance of each patch = min over bank rows of 1 - cos, G x G,
 * upsampled (bilinear, align_corners=True) to S x S.
 * layer_maps (may be NULL): layers x S x S; map: S x S, sum over layers;
 * mean (may be NULL): mean of `map` (MVFA's few-shot det score).
 * An empty bank is VG_ERR_ARG. */
vg_status vg_membank_query(const vg_membank *bank, vg_head head, const float *const *tokens,
                           float *layer_maps, float *map, float *mean);

/* Device mirror: from now on the bank also keeps its rows on `be` (a
 * vg_score_bank, see vg_score_backend.h), uploading a reference's rows once
 * when it is added and dropping them when it is removed, so queries can run
 * there. Only on an empty bank; the backend must outlive the bank. */
typedef struct vg_score_bank vg_score_bank;
vg_status vg_membank_mirror(vg_membank *bank, vg_backend *be);
/* Drops the device copy (its backend is going away); the host rows stay. */
void vg_membank_unmirror(vg_membank *bank);
/* The mirror, or NULL when the bank has none. */
const vg_score_bank *vg_membank_mirrored(const vg_membank *bank);

#ifdef __cplusplus
}
#endif
