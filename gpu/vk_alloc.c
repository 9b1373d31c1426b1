/* Buffers, and the block sub-allocator they are bound in: a few large
 * VkDeviceMemory blocks per memory type, each buffer bound at an aligned
 * offset inside one. Drivers cap how many allocations may exist
 * (maxMemoryAllocationCount, often 4096) and each costs a kernel call, so a
 * model's hundreds of tensors share a handful of blocks.
 *
 * Blocks grow 32 MiB, 64, 128 up to 256 MiB (or an eighth of the heap) per
 * memory type; a buffer over half the largest block gets its own allocation.
 * Each block keeps its free ranges sorted by offset and merged, first fit; an
 * empty block is freed. Nothing here records commands: the recorder frees
 * buffers through this file after a submission (vk_free_garbage). */
#include <stdlib.h>
#include <string.h>

#include "vk_private.h"

#define VK_FIRST_BLOCK ((VkDeviceSize)32 << 20)
#define VK_MAX_BLOCK ((VkDeviceSize)256 << 20)

typedef struct vk_range {
  VkDeviceSize offset, size;
} vk_range;

struct vk_block {
  vk_block *next;
  VkDeviceMemory memory;
  VkDeviceSize size, used;
  uint32_t type;
  int dedicated;
  char *mapped;
  vk_range *free; /* sorted by offset, disjoint, never adjacent */
  size_t nfree, cap;
};

static VkDeviceSize align_up(VkDeviceSize v, VkDeviceSize a) {
  return a > 1 ? (v + a - 1) / a * a : v;
}

/* The largest shared block of a memory type: an eighth of its heap at most,
 * so blocks never crowd a small heap (such as a 256 MiB BAR window). */
static VkDeviceSize type_max_block(const vk_backend *vk, uint32_t type) {
  VkDeviceSize block = VK_MAX_BLOCK;
  const VkDeviceSize heap =
      vk->mem_props.memoryHeaps[vk->mem_props.memoryTypes[type].heapIndex].size;
  if (heap / 8 < block)
    block = heap / 8;
  if (block > vk->mem.max_alloc)
    block = vk->mem.max_alloc;
  return block < VK_FIRST_BLOCK ? VK_FIRST_BLOCK : block;
}

static int pick_type(const vk_backend *vk, uint32_t bits, int host_visible);

vg_status vk_memory_init(vk_backend *vk) {
  VkPhysicalDeviceMaintenance3Properties m3 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                    .pNext = &m3};
  vk->mem.max_alloc = (VkDeviceSize)1 << 31; /* the guaranteed minimum before 1.1 */
  if (vk->props.apiVersion >= VK_API_VERSION_1_1) {
    vkGetPhysicalDeviceProperties2(vk->physical, &p2);
    vk->mem.max_alloc = m3.maxMemoryAllocationSize;
  }
  int type = pick_type(vk, ~0u, !vk->device_local);
  if (type < 0)
    return vg_fail(VG_ERR_UNSUPPORTED, "%s has no memory type for tensors", vk->props.deviceName);
  vk->mem.max_block = type_max_block(vk, (uint32_t)type); /* for the stats */
  return VG_OK;
}

/* The first memory type allowed by `bits` with all of `want`, or -1. */
static int find_type(const vk_backend *vk, uint32_t bits, VkMemoryPropertyFlags want) {
  for (uint32_t i = 0; i < vk->mem_props.memoryTypeCount; i++)
    if ((bits & (1u << i)) && (vk->mem_props.memoryTypes[i].propertyFlags & want) == want)
      return (int)i;
  return -1;
}

/* Host-visible tensors of UMA devices prefer memory that is device-local too;
 * staging on a discrete GPU takes plain host memory and leaves its BAR alone. */
static int pick_type(const vk_backend *vk, uint32_t bits, int host_visible) {
  const VkMemoryPropertyFlags hv =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  if (!host_visible)
    return find_type(vk, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  int t = vk->device_local ? -1 : find_type(vk, bits, hv | VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  return t >= 0 ? t : find_type(vk, bits, hv);
}

static void free_block(vk_backend *vk, vk_block *b) {
  for (vk_block **p = &vk->mem.blocks; *p; p = &(*p)->next)
    if (*p == b) {
      *p = b->next;
      break;
    }
  if (b->mapped)
    vkUnmapMemory(vk->device, b->memory);
  vkFreeMemory(vk->device, b->memory, NULL);
  vk->mem.allocations--;
  vk->mem.dedicated -= b->dedicated != 0;
  vk->mem.allocated_bytes -= b->size;
  free(b->free);
  free(b);
}

static vg_status new_block(vk_backend *vk, uint32_t type, VkDeviceSize size, int dedicated,
                           vk_block **out) {
  vk_block *b = calloc(1, sizeof *b);
  vk_range *r = calloc(4, sizeof *r);
  if (!b || !r) {
    free(b), free(r);
    return vg_fail(VG_ERR_NOMEM, "out of memory for a memory block record");
  }
  VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = size,
      .memoryTypeIndex = type,
  };
  VkResult res = vk_fault_check(vk, VK_FAULT_ALLOC);
  if (res == VK_SUCCESS)
    res = vkAllocateMemory(vk->device, &info, NULL, &b->memory);
  if (res != VK_SUCCESS) { /* NOMEM: a caller may retry with less (fewer images per forward) */
    free(b), free(r);
    return vg_fail(VG_ERR_NOMEM, "%s is out of memory: %llu MiB could not be allocated (%s)",
                   vk->props.deviceName, (unsigned long long)(size >> 20),
                   res == VK_ERROR_OUT_OF_HOST_MEMORY ? "host" : "device");
  }
  const VkMemoryPropertyFlags flags = vk->mem_props.memoryTypes[type].propertyFlags;
  if ((flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
      vkMapMemory(vk->device, b->memory, 0, VK_WHOLE_SIZE, 0, (void **)&b->mapped) != VK_SUCCESS) {
    vkFreeMemory(vk->device, b->memory, NULL);
    free(b), free(r);
    return vg_fail(VG_ERR_DEVICE, "cannot map %llu MiB on %s", (unsigned long long)(size >> 20),
                   vk->props.deviceName);
  }
  b->size = size;
  b->type = type;
  b->dedicated = dedicated;
  b->free = r;
  b->cap = 4;
  b->free[0] = (vk_range){0, size};
  b->nfree = 1;
  b->next = vk->mem.blocks;
  vk->mem.blocks = b;
  vk->mem.allocations++;
  vk->mem.total_allocations++;
  vk->mem.dedicated += dedicated != 0;
  vk->mem.allocated_bytes += size;
  if (vk->mem.allocations > vk->mem.peak_allocations)
    vk->mem.peak_allocations = vk->mem.allocations;
  *out = b;
  return VG_OK;
}

/* First fit: reserves `size` bytes at an `align`ed offset; 0 if none fits. */
static int carve(vk_block *b, VkDeviceSize size, VkDeviceSize align, VkDeviceSize *offset) {
  for (size_t i = 0; i < b->nfree; i++) {
    vk_range r = b->free[i];
    VkDeviceSize o = align_up(r.offset, align);
    if (o + size > r.offset + r.size)
      continue;
    VkDeviceSize tail = r.offset + r.size - (o + size);
    if (o > r.offset && tail) { /* split in two: needs one more slot */
      if (b->nfree == b->cap) {
        vk_range *g = realloc(b->free, 2 * b->cap * sizeof *g);
        if (!g)
          return 0;
        b->free = g;
        b->cap *= 2;
      }
      memmove(&b->free[i + 2], &b->free[i + 1], (b->nfree - i - 1) * sizeof *b->free);
      b->nfree++;
      b->free[i] = (vk_range){r.offset, o - r.offset};
      b->free[i + 1] = (vk_range){o + size, tail};
    } else if (o > r.offset) {
      b->free[i].size = o - r.offset;
    } else if (tail) {
      b->free[i] = (vk_range){o + size, tail};
    } else {
      memmove(&b->free[i], &b->free[i + 1], (b->nfree - i - 1) * sizeof *b->free);
      b->nfree--;
    }
    b->used += size;
    *offset = o;
    return 1;
  }
  return 0;
}

/* Returns [offset, offset + size) to the free list, merging with neighbours. */
static int give_back(vk_block *b, VkDeviceSize offset, VkDeviceSize size) {
  size_t i = 0;
  while (i < b->nfree && b->free[i].offset < offset)
    i++;
  int joins_prev = i > 0 && b->free[i - 1].offset + b->free[i - 1].size == offset;
  int joins_next = i < b->nfree && offset + size == b->free[i].offset;
  b->used -= size;
  if (joins_prev && joins_next) {
    b->free[i - 1].size += size + b->free[i].size;
    memmove(&b->free[i], &b->free[i + 1], (b->nfree - i - 1) * sizeof *b->free);
    b->nfree--;
  } else if (joins_prev) {
    b->free[i - 1].size += size;
  } else if (joins_next) {
    b->free[i].offset = offset;
    b->free[i].size += size;
  } else {
    if (b->nfree == b->cap) {
      vk_range *g = realloc(b->free, 2 * b->cap * sizeof *g);
      if (!g)
        return 0; /* the range stays lost until the block empties */
      b->free = g;
      b->cap *= 2;
    }
    memmove(&b->free[i + 1], &b->free[i], (b->nfree - i) * sizeof *b->free);
    b->free[i] = (vk_range){offset, size};
    b->nfree++;
  }
  return 1;
}

/* The size of the next shared block of `type`: doubling with each one. */
static VkDeviceSize next_block_size(const vk_backend *vk, uint32_t type, VkDeviceSize need) {
  const VkDeviceSize max = type_max_block(vk, type);
  VkDeviceSize size = VK_FIRST_BLOCK;
  for (const vk_block *b = vk->mem.blocks; b; b = b->next)
    if (b->type == type && !b->dedicated && size < max)
      size *= 2;
  if (size > max)
    size = max;
  return size < need ? need : size;
}

/* Finds memory for `buf->buffer` (created, not yet bound) and binds it. */
static vg_status bind_memory(vk_backend *vk, vk_buffer *buf, int host_visible) {
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(vk->device, buf->buffer, &req);
  int type = pick_type(vk, req.memoryTypeBits, host_visible);
  if (type < 0)
    return vg_fail(VG_ERR_UNSUPPORTED, "%s has no %s memory for storage buffers",
                   vk->props.deviceName, host_visible ? "host-visible" : "device-local");
  if (req.size > vk->mem.max_alloc)
    return vg_fail(VG_ERR_UNSUPPORTED, "%llu MiB is more than %s allocates at once (%llu MiB)",
                   (unsigned long long)(req.size >> 20), vk->props.deviceName,
                   (unsigned long long)(vk->mem.max_alloc >> 20));
  const VkDeviceSize span = align_up(req.size, req.alignment);
  if (vk_fault_bind(vk, span) != VK_SUCCESS)
    return vg_fail(
        VG_ERR_NOMEM,
        "%s is out of memory: %llu KiB more would pass %llu KiB (VK_ERROR_OUT_OF_DEVICE_MEMORY)",
        vk->props.deviceName, (unsigned long long)(span >> 10),
        (unsigned long long)(vk->fault.after >> 10));
  vk_block *b = NULL;
  VkDeviceSize offset = 0;
  if (span > type_max_block(vk, (uint32_t)type) / 2) {
    VG_TRY(new_block(vk, (uint32_t)type, req.size, 1, &b));
    carve(b, req.size, 1, &offset);
  } else {
    for (b = vk->mem.blocks; b; b = b->next)
      if (b->type == (uint32_t)type && !b->dedicated && carve(b, span, req.alignment, &offset))
        break;
    if (!b) {
      VG_TRY(new_block(vk, (uint32_t)type, next_block_size(vk, (uint32_t)type, span), 0, &b));
      if (!carve(b, span, req.alignment, &offset)) {
        free_block(vk, b);
        return vg_fail(VG_ERR_NOMEM, "out of memory for a free-range record");
      }
    }
  }
  buf->block = b;
  buf->offset = offset;
  buf->span = b->dedicated ? req.size : span;
  vk->mem.used_bytes += buf->span;
  vk->mem.buffers++;
  if (b->mapped)
    buf->mapped = b->mapped + offset;
  VK_TRY(vkBindBufferMemory(vk->device, buf->buffer, b->memory, offset), "vkBindBufferMemory");
  return VG_OK;
}

static void unbind_memory(vk_backend *vk, vk_buffer *buf) {
  vk_block *b = buf->block;
  if (!b)
    return;
  buf->block = NULL;
  buf->mapped = NULL;
  vk->mem.used_bytes -= buf->span;
  vk->mem.buffers--;
  give_back(b, buf->offset, buf->span); /* on failure the range waits for the block to empty */
  if (b->used == 0)
    free_block(vk, b);
}

/* A storage buffer of at least `bytes`, bound in host-visible (mapped) or
 * device-local memory. */
vg_status vk_buffer_new(vk_backend *vk, VkDeviceSize bytes, int host_visible, vk_buffer **out) {
  vk_buffer *buf = calloc(1, sizeof *buf);
  if (!buf)
    return vg_fail(VG_ERR_NOMEM, "out of memory for a buffer record");
  /* Rounded up so shaders may read F16 data as whole 32-bit words. */
  buf->size = (bytes + 15) & ~(VkDeviceSize)15;
  VkBufferCreateInfo binfo = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = buf->size,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkResult r = vkCreateBuffer(vk->device, &binfo, NULL, &buf->buffer);
  vg_status s = r == VK_SUCCESS ? bind_memory(vk, buf, host_visible)
                                : vg_fail(VG_ERR_DEVICE, "vkCreateBuffer of %llu bytes failed (%d)",
                                          (unsigned long long)bytes, (int)r);
  if (s != VG_OK) {
    vk_buffer_free(vk, buf);
    return s;
  }
  *out = buf;
  return VG_OK;
}

void vk_buffer_free(vk_backend *vk, vk_buffer *buf) {
  if (!buf)
    return;
  if (buf->buffer)
    vkDestroyBuffer(vk->device, buf->buffer, NULL);
  unbind_memory(vk, buf);
  free(buf);
}

/* After a submission: the buffers vk_buffer_release_later deferred. */
void vk_free_garbage(vk_backend *vk) {
  for (size_t i = 0; i < vk->garbage_len; i++)
    vk_buffer_free(vk, vk->garbage[i]);
  vk->garbage_len = 0;
  vk->mem.staging_pending = 0;
}

int vg_vulkan_memory_stats(const vg_backend *be, vg_vk_memory_stats *out) {
  if (!be || !out || strcmp(be->kind, "vulkan") != 0)
    return 0;
  const vk_backend *vk = (const vk_backend *)be;
  *out = (vg_vk_memory_stats){
      .allocations = vk->mem.allocations,
      .peak_allocations = vk->mem.peak_allocations,
      .dedicated = vk->mem.dedicated,
      .buffers = vk->mem.buffers,
      .total_allocations = vk->mem.total_allocations,
      .allocated_bytes = vk->mem.allocated_bytes,
      .used_bytes = vk->mem.used_bytes,
      .max_block_bytes = vk->mem.max_block,
  };
  return 1;
}

/* The heap tensors are allocated from: what a whole model must fit in. */
VkDeviceSize vk_tensor_heap_bytes(const vk_backend *vk) {
  int type = pick_type(vk, ~0u, !vk->device_local);
  if (type < 0)
    return 0;
  return vk->mem_props.memoryHeaps[vk->mem_props.memoryTypes[type].heapIndex].size;
}
