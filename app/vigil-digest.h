/* SHA-256 of a weights file (the model key of calibrations and text-feature
 * caches), remembered in the user's cache folder by path, size and
 * modification time, so a 1.7 GB file is read in full once, not every start. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The lowercase hex digest of the file at `path`, from the cache when its
 * path, size and mtime match an entry, else computed (and recorded). */
char *vigil_file_digest(const char *path, GError **error);

/* The digest read from the file itself, every time (no cache). */
char *vigil_file_sha256(const char *path, GError **error);
/* The cache's file: $XDG_CACHE_HOME/vigil/digests.ini. Caller g_free()s. */
char *vigil_digest_cache_path(void);

G_END_DECLS
