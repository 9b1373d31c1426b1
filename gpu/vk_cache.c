/* The on-disk pipeline cache: compiled kernels kept between runs in
 * $XDG_CACHE_HOME/vigil/vulkan-pipelines/<vendor>-<device>-<driver>-<uuid>.bin
 * (~/.cache without XDG_CACHE_HOME), so a start-up skips the shader compiler.
 *
 * The file is our header (magic, version, data size, FNV-1a hash of the data)
 * then the driver's cache data. Drivers are meant to check their own header,
 * but some crash on damaged data, so a file is used only when the hash and
 * the Vulkan header (version, vendor, device, pipelineCacheUUID) all match;
 * anything else is ignored and replaced at the next save. Saves write a
 * temporary file and rename it over the old, so readers never see half. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vk_private.h"

#define PC_MAGIC 0x43504756u /* "VGPC" */
#define PC_VERSION 1u
#define PC_MAX_BYTES ((size_t)256 << 20)

typedef struct pc_header {
  uint32_t magic, version;
  uint64_t size, hash;
} pc_header;

static uint64_t fnv1a(const void *data, size_t n) {
  const unsigned char *p = data;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* mkdir -p for the cache folder; 0 on success. */
static int make_dirs(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int r = mkdir(path, 0700);
    *p = '/';
    if (r != 0 && errno != EEXIST)
      return -1;
  }
  return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static char *cache_path(const vk_backend *vk) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char root[4096];
  if (xdg && xdg[0] == '/')
    snprintf(root, sizeof root, "%s", xdg);
  else if (home && home[0] == '/')
    snprintf(root, sizeof root, "%s/.cache", home);
  else
    return NULL;
  char uuid[2 * VK_UUID_SIZE + 1];
  for (unsigned i = 0; i < VK_UUID_SIZE; i++)
    snprintf(uuid + 2 * i, 3, "%02x", vk->props.pipelineCacheUUID[i]);
  size_t n = strlen(root) + 128;
  char *path = malloc(n);
  if (path)
    snprintf(path, n, "%s/vigil/vulkan-pipelines/%04x-%04x-%08x-%s.bin", root, vk->props.vendorID,
             vk->props.deviceID, vk->props.driverVersion, uuid);
  return path;
}

/* Reads the file; NULL with *why set when it is absent or not usable here. */
static void *read_cache(const vk_backend *vk, const char *path, size_t *size, const char **why) {
  FILE *f = fopen(path, "rb");
  *why = "absent";
  if (!f)
    return NULL;
  pc_header h;
  void *data = NULL;
  *why = "ignored: too short for its header";
  if (fread(&h, sizeof h, 1, f) != 1)
    goto out;
  *why = "ignored: not a Vigil pipeline cache";
  if (h.magic != PC_MAGIC || h.version != PC_VERSION)
    goto out;
  *why = "ignored: implausible size";
  if (h.size < 32 || h.size > PC_MAX_BYTES || !(data = malloc(h.size)))
    goto out;
  *why = "ignored: truncated";
  if (fread(data, 1, h.size, f) != h.size || fgetc(f) != EOF)
    goto bad;
  *why = "ignored: damaged (checksum mismatch)";
  if (fnv1a(data, h.size) != h.hash)
    goto bad;
  /* VkPipelineCacheHeaderVersionOne: size, version, vendor, device, UUID. */
  uint32_t vh[4];
  memcpy(vh, data, sizeof vh);
  *why = "ignored: written by another device or driver";
  if (vh[0] < 32 || vh[1] != VK_PIPELINE_CACHE_HEADER_VERSION_ONE || vh[2] != vk->props.vendorID ||
      vh[3] != vk->props.deviceID ||
      memcmp((char *)data + 16, vk->props.pipelineCacheUUID, VK_UUID_SIZE) != 0)
    goto bad;
  *why = "loaded";
  *size = h.size;
  fclose(f);
  return data;
bad:
  free(data);
  data = NULL;
out:
  fclose(f);
  return data;
}

static void set_state(vk_backend *vk, const char *state) {
  snprintf(vk->pcache_state, sizeof vk->pcache_state, "%s", state);
}

void vk_pipeline_cache_open(vk_backend *vk, int disabled) {
  const char *env = getenv("VIGIL_VK_PIPELINE_CACHE");
  set_state(vk, "disabled");
  if (disabled || (env && strcmp(env, "0") == 0) || !(vk->pcache_path = cache_path(vk)))
    return;
  size_t size = 0;
  const char *why;
  void *data = read_cache(vk, vk->pcache_path, &size, &why);
  set_state(vk, why);
  VkPipelineCacheCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
      .initialDataSize = size,
      .pInitialData = data,
  };
  if (vkCreatePipelineCache(vk->device, &info, NULL, &vk->pcache) == VK_SUCCESS) {
    vk->pcache_loaded = vk->pcache_synced = size;
    vk->pcache_hash = data ? fnv1a(data, size) : 0;
  } else if (data) {
    set_state(vk, "ignored: the driver refused it");
    info.initialDataSize = 0;
    info.pInitialData = NULL;
    if (vkCreatePipelineCache(vk->device, &info, NULL, &vk->pcache) != VK_SUCCESS)
      vk->pcache = VK_NULL_HANDLE; /* pipelines are then built without a cache */
  }
  free(data);
}

static vg_status write_file(const char *path, const void *data, size_t size) {
  char *dir = strdup(path), *tmp = malloc(strlen(path) + 32);
  vg_status s = VG_OK;
  if (!dir || !tmp) {
    s = vg_fail(VG_ERR_NOMEM, "out of memory saving the pipeline cache");
    goto out;
  }
  *strrchr(dir, '/') = '\0';
  snprintf(tmp, strlen(path) + 32, "%s.tmp.%ld", path, (long)getpid());
  pc_header h = {PC_MAGIC, PC_VERSION, size, fnv1a(data, size)};
  FILE *f = make_dirs(dir) == 0 ? fopen(tmp, "wb") : NULL;
  int ok = f && fwrite(&h, sizeof h, 1, f) == 1 && fwrite(data, 1, size, f) == size;
  ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
  if (f)
    ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    s = vg_fail(VG_ERR_IO, "cannot write the pipeline cache %s: %s", path, strerror(errno));
    unlink(tmp);
  }
out:
  free(dir), free(tmp);
  return s;
}

/* Writes the cache when the driver's data changed since it was loaded or saved. */
static vg_status save_pipeline_cache(vk_backend *vk) {
  if (!vk->pcache || !vk->pcache_path)
    return VG_OK;
  size_t size = 0;
  VK_TRY(vkGetPipelineCacheData(vk->device, vk->pcache, &size, NULL), "vkGetPipelineCacheData");
  if (size < 32 || size > PC_MAX_BYTES)
    return VG_OK; /* nothing worth keeping */
  void *data = malloc(size);
  if (!data)
    return vg_fail(VG_ERR_NOMEM, "out of memory saving the pipeline cache");
  VkResult r = vkGetPipelineCacheData(vk->device, vk->pcache, &size, data);
  vg_status s = VG_OK;
  if (r != VK_SUCCESS)
    s = vg_fail(VG_ERR_DEVICE, "vkGetPipelineCacheData failed (%s)", vk_result_name(r));
  else if (size != vk->pcache_synced || fnv1a(data, size) != vk->pcache_hash)
    s = write_file(vk->pcache_path, data, size);
  if (s == VG_OK) {
    vk->pcache_synced = size;
    vk->pcache_hash = fnv1a(data, size);
  }
  free(data);
  return s;
}

/* Saves (a failure only costs compile time next run) and destroys the cache. */
void vk_pipeline_cache_close(vk_backend *vk) {
  if (vk->pcache) {
    save_pipeline_cache(vk);
    vkDestroyPipelineCache(vk->device, vk->pcache, NULL);
    vk->pcache = VK_NULL_HANDLE;
  }
  free(vk->pcache_path);
  vk->pcache_path = NULL;
}

int vg_vulkan_pipeline_cache_info(const vg_backend *be, vg_vk_pipeline_cache_info *out) {
  if (!be || !out || strcmp(be->kind, "vulkan") != 0)
    return 0;
  const vk_backend *vk = (const vk_backend *)be;
  *out = (vg_vk_pipeline_cache_info){
      .path = vk->pcache ? vk->pcache_path : NULL,
      .state = vk->pcache_state,
      .loaded_bytes = vk->pcache_loaded,
  };
  return 1;
}
