#include "vigil-digest.h"

#include <errno.h>
#include <gio/gio.h>
#include <openssl/evp.h>
#include <string.h>
#include <glib/gstdio.h>

char *vigil_digest_cache_path(void) {
  return g_build_filename(g_get_user_cache_dir(), "vigil", "digests.ini", NULL);
}

char *vigil_file_sha256(const char *path, GError **error) {
  g_autoptr(GFile) file = g_file_new_for_path(path);
  g_autoptr(GFileInputStream) in = g_file_read(file, NULL, error);
  if (!in)
    return NULL;
  EVP_MD_CTX *sum = EVP_MD_CTX_new();
  if (!sum || !EVP_DigestInit_ex(sum, EVP_sha256(), NULL)) {
    EVP_MD_CTX_free(sum);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "OpenSSL has no SHA-256 here");
    return NULL;
  }
  g_autofree guint8 *buf = g_malloc(1 << 20);
  gssize n;
  while ((n = g_input_stream_read(G_INPUT_STREAM(in), buf, 1 << 20, NULL, error)) > 0)
    EVP_DigestUpdate(sum, buf, (size_t)n);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  const int done = n == 0 && EVP_DigestFinal_ex(sum, md, &len);
  EVP_MD_CTX_free(sum);
  if (n < 0)
    return NULL;
  if (!done) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "SHA-256 of %s failed in OpenSSL", path);
    return NULL;
  }
  char *hex = g_malloc(2 * len + 1);
  for (unsigned i = 0; i < len; i++)
    g_snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return hex;
}

/* What must match for a cached digest to stand: size and mtime to the ns. */
static char *stamp_of(const char *path) {
  GStatBuf st;
  if (g_stat(path, &st) != 0)
    return NULL;
  return g_strdup_printf("%lld %lld.%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                         (long)st.st_mtim.tv_nsec);
}

static gboolean is_digest(const char *s) {
  if (!s || strlen(s) != 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
      return FALSE;
  return TRUE;
}

/* Entries of files gone (test folders, moved models) are left out on save. */
static void prune(GKeyFile *kf) {
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
  for (int i = 0; groups[i]; i++) {
    g_autofree char *path = g_key_file_get_string(kf, groups[i], "path", NULL);
    if (!path || !g_file_test(path, G_FILE_TEST_IS_REGULAR))
      g_key_file_remove_group(kf, groups[i], NULL);
  }
}

char *vigil_file_digest(const char *path, GError **error) {
  g_autofree char *abs = g_canonicalize_filename(path, NULL);
  g_autofree char *stamp = stamp_of(abs);
  /* Paths may hold what a key file's group names cannot: the group is their hash. */
  g_autofree char *group = g_compute_checksum_for_string(G_CHECKSUM_SHA256, abs, -1);
  g_autofree char *cache = vigil_digest_cache_path();
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_load_from_file(kf, cache, G_KEY_FILE_NONE, NULL); /* absent or bad: empty */
  g_autofree char *was_path = g_key_file_get_string(kf, group, "path", NULL);
  g_autofree char *was_stamp = g_key_file_get_string(kf, group, "stamp", NULL);
  g_autofree char *was = g_key_file_get_string(kf, group, "sha256", NULL);
  if (stamp && g_strcmp0(was_path, abs) == 0 && g_strcmp0(was_stamp, stamp) == 0 && is_digest(was))
    return g_steal_pointer(&was);
  const gint64 start = g_get_monotonic_time();
  char *digest = vigil_file_sha256(abs, error);
  if (!digest)
    return NULL;
  g_debug("sha256 of %s in %.2f s", abs, (double)(g_get_monotonic_time() - start) / 1e6);
  g_autofree char *after = stamp_of(abs);
  if (stamp && g_strcmp0(stamp, after) == 0) { /* not changed while it was read */
    prune(kf);
    g_key_file_set_string(kf, group, "path", abs);
    g_key_file_set_string(kf, group, "stamp", stamp);
    g_key_file_set_string(kf, group, "sha256", digest);
    g_autofree char *dir = g_path_get_dirname(cache);
    g_autoptr(GError) werr = NULL;
    if (g_mkdir_with_parents(dir, 0700) != 0 || !g_key_file_save_to_file(kf, cache, &werr))
      g_debug("digest cache %s not written: %s", cache, werr ? werr->message : g_strerror(errno));
  }
  return digest;
}
