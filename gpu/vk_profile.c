/* Per-op device timing: while profiling, a timestamp goes in after every
 * recorded command (and one when a command buffer begins), labelled with the
 * op kind the backend wrappers set (vg_backend.c). A command's time is its
 * timestamp minus the previous one: BOTTOM_OF_PIPE timestamps wait for all
 * earlier commands, so the deltas add up to the command buffer's device time
 * and each is charged to the command that completed last. Commands without a
 * barrier between them may overlap; their time is then split by completion.
 *
 * The dispatch and submit counters run always: they show that work reached
 * the device (tests check them).
 *
 * vk_record.c calls the hooks here as it records and submits; nothing here
 * calls back (a full query pool is reported by vk_profile_full, and the
 * recorder flushes), so the two files do not loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_private.h"

static uint32_t timestamp_bits(vk_backend *vk) {
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(vk->physical, &n, NULL);
  VkQueueFamilyProperties *fams = calloc(n ? n : 1, sizeof *fams);
  if (!fams)
    return 0;
  vkGetPhysicalDeviceQueueFamilyProperties(vk->physical, &n, fams);
  uint32_t bits = vk->queue_family < n ? fams[vk->queue_family].timestampValidBits : 0;
  free(fams);
  return bits;
}

static vg_status create_pool(vk_backend *vk) {
  if (vk->query_pool)
    return VG_OK;
  VkQueryPoolCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
      .queryType = VK_QUERY_TYPE_TIMESTAMP,
      .queryCount = VK_QUERIES,
  };
  VK_TRY(vkCreateQueryPool(vk->device, &info, NULL, &vk->query_pool), "vkCreateQueryPool");
  return VG_OK;
}

vg_status vk_profile_start(vk_backend *vk, vg_profile *p) {
  vk->prof = NULL;
  if (!p)
    return VG_OK;
  vk->ts_bits = timestamp_bits(vk);
  if (vk->ts_bits == 0) {
    p->clock = NULL;
    snprintf(p->note, sizeof p->note,
             "the device has no timestamps on its compute queue (timestampValidBits = 0): "
             "dispatches are counted, not timed; %s",
             vk->attn_note);
  } else {
    VG_TRY(create_pool(vk));
    p->clock = "vulkan timestamps";
    snprintf(p->note, sizeof p->note,
             "%u-bit device timestamps, %.3g ns per tick; each op is charged the time since the "
             "previous command completed; %s",
             vk->ts_bits, (double)vk->props.limits.timestampPeriod, vk->attn_note);
  }
  vk->prof = p;
  return VG_OK;
}

static int timing(const vk_backend *vk) {
  return vk->prof && vk->ts_bits && vk->query_pool;
}

void vk_profile_begin_cmd(vk_backend *vk) {
  vk->queries = 0;
  if (!timing(vk))
    return;
  vkCmdResetQueryPool(vk->cmd, vk->query_pool, 0, VK_QUERIES);
  vkCmdWriteTimestamp(vk->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, vk->query_pool, 0);
  vk->query_kind[0] = VG_OP_OTHER;
  vk->queries = 1;
}

int vk_profile_full(const vk_backend *vk) {
  return timing(vk) && vk->recording && vk->queries >= VK_QUERIES;
}

void vk_profile_mark(vk_backend *vk) {
  if (vk->prof)
    vk->prof->dispatches++;
  if (!timing(vk) || vk->queries >= VK_QUERIES)
    return;
  vkCmdWriteTimestamp(vk->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, vk->query_pool, vk->queries);
  vk->query_kind[vk->queries++] = (uint8_t)vk->base.op;
}

/* After the fence: charges each command the ticks since the one before. */
vg_status vk_profile_collect(vk_backend *vk) {
  if (vk->prof)
    vk->prof->submits++;
  if (!timing(vk) || vk->queries < 2)
    return VG_OK;
  uint64_t ts[VK_QUERIES];
  VK_TRY(vkGetQueryPoolResults(vk->device, vk->query_pool, 0, vk->queries, sizeof ts, ts,
                               sizeof *ts, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
         "vkGetQueryPoolResults");
  const uint64_t mask = vk->ts_bits >= 64 ? ~0ull : (1ull << vk->ts_bits) - 1;
  const double ms_per_tick = (double)vk->props.limits.timestampPeriod * 1e-6;
  for (uint32_t i = 1; i < vk->queries; i++) {
    const uint64_t delta = (ts[i] - ts[i - 1]) & mask; /* a wrapped counter stays right */
    vk->prof->op[vk->query_kind[i]].ms += (double)delta * ms_per_tick;
  }
  vk->queries = 0;
  return VG_OK;
}

void vk_profile_destroy(vk_backend *vk) {
  if (vk->query_pool)
    vkDestroyQueryPool(vk->device, vk->query_pool, NULL);
  vk->query_pool = VK_NULL_HANDLE;
}
