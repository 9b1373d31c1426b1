/* ZIP archives as torch.save writes them, through libzip.
 *
 * Reading accepts only what a checkpoint needs: stored (uncompressed),
 * unencrypted entries, so an entry's size is bounded by the archive's size and
 * nothing can inflate. libzip checks the directory against the local headers
 * (ZIP_CHECKCONS), handles ZIP64 records and verifies each entry's CRC-32. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vg_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_zip vg_zip;

/* Opens an archive held in memory; `data` must outlive the reader. */
vg_status vg_zip_open_mem(const void *data, size_t len, vg_zip **out);
void vg_zip_close(vg_zip *z);

size_t vg_zip_count(const vg_zip *z);
const char *vg_zip_name(const vg_zip *z, size_t index); /* NULL if out of range */
int vg_zip_has(const vg_zip *z, const char *name);

/* Reads a whole entry into a new malloc'd buffer (free() it; never NULL on
 * success, even for an empty entry). Fails on a missing, compressed or
 * encrypted entry, a size beyond the archive, a short read or a bad CRC. */
vg_status vg_zip_read(vg_zip *z, const char *name, void **data, size_t *len);

typedef struct vg_zip_writer vg_zip_writer;

/* Starts a new archive at `path` (replaced atomically when closed). */
vg_status vg_zip_writer_open(const char *path, vg_zip_writer **out);
/* Adds a stored entry whose data will start on a 64-byte boundary, as in
 * torch's archives; `data` must stay valid until vg_zip_writer_close. */
vg_status vg_zip_writer_add(vg_zip_writer *zw, const char *name, const void *data, size_t len);
/* Writes the archive and frees the writer (also on failure). */
vg_status vg_zip_writer_close(vg_zip_writer *zw);
/* Frees the writer without writing anything. */
void vg_zip_writer_discard(vg_zip_writer *zw);

#ifdef __cplusplus
}
#endif
