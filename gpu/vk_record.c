/* Batching: ops are recorded into one command buffer and submitted together
 * by vk_flush (at synchronize, at a download, at an upload that would
 * overwrite data a pending command uses, or when descriptor sets run out).
 *
 * Each buffer remembers the barrier epoch of its last recorded read and write;
 * a barrier goes in only before a command that reads what an earlier command
 * of the epoch wrote, or writes what it read or wrote (RAW, WAR, WAW). */
#include "vk_private.h"

int vk_pending(const vk_backend *vk, const vk_buffer *buf) {
  return vk->recording && buf->batch == vk->batch;
}

static vg_status vk_begin(vk_backend *vk) {
  if (vk->recording)
    return VG_OK;
  VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  VK_TRY(vkResetCommandBuffer(vk->cmd, 0), "vkResetCommandBuffer");
  VK_TRY(vkBeginCommandBuffer(vk->cmd, &begin), "vkBeginCommandBuffer");
  vk->recording = 1;
  vk->epoch++;
  vk_profile_begin_cmd(vk);
  return VG_OK;
}

static void barrier(vk_backend *vk, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access) {
  VkMemoryBarrier b = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = dst_access,
  };
  vkCmdPipelineBarrier(vk->cmd,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       dst_stage, 0, 1, &b, 0, NULL, 0, NULL);
  vk->epoch++;
}

/* Declares what the next command reads and writes; inserts a barrier on a hazard. */
static vg_status vk_access(vk_backend *vk, vk_buffer *const *reads, uint32_t nr,
                           vk_buffer *const *writes, uint32_t nw) {
  VG_TRY(vk_begin(vk));
  int hazard = 0;
  for (uint32_t i = 0; i < nr; i++)
    hazard |= reads[i]->write_epoch == vk->epoch;
  for (uint32_t i = 0; i < nw; i++)
    hazard |= writes[i]->write_epoch == vk->epoch || writes[i]->read_epoch == vk->epoch;
  if (hazard)
    barrier(vk, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                VK_ACCESS_TRANSFER_WRITE_BIT);
  for (uint32_t i = 0; i < nr; i++)
    reads[i]->read_epoch = vk->epoch, reads[i]->batch = vk->batch;
  for (uint32_t i = 0; i < nw; i++)
    writes[i]->write_epoch = vk->epoch, writes[i]->batch = vk->batch;
  return VG_OK;
}

static vg_status alloc_set(vk_backend *vk, const vk_pipeline *pl, VkDescriptorSet *set) {
  if (vk->sets_used == VK_DESC_SETS)
    VG_TRY(vk_flush(vk)); /* resets the pool */
  VkDescriptorSetAllocateInfo ainfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = vk->desc_pool,
      .descriptorSetCount = 1,
      .pSetLayouts = &pl->set_layout,
  };
  VK_TRY(vkAllocateDescriptorSets(vk->device, &ainfo, set), "vkAllocateDescriptorSets");
  vk->sets_used++;
  return VG_OK;
}

/* Profiling takes a timestamp per command: a full query pool ends the batch. */
static vg_status reserve_timestamp(vk_backend *vk) {
  return vk_profile_full(vk) ? vk_flush(vk) : VG_OK;
}

vg_status vk_dispatch(vk_backend *vk, const vk_pipeline *pl, vk_buffer *const *bufs,
                      const void *push, size_t push_bytes, uint32_t gx, uint32_t gy) {
  return vk_dispatch3(vk, pl, bufs, push, push_bytes, gx, gy, 1);
}

/* The kernel table says how many buffers the kernel binds and which it
 * writes: reads and writes feed the hazard tracking. */
vg_status vk_dispatch3(vk_backend *vk, const vk_pipeline *pl, vk_buffer *const *bufs,
                       const void *push, size_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
  const vk_kernel *k = pl->kernel;
  if (push_bytes != k->push_bytes) /* a push struct not the kernel's */
    return vg_fail(VG_ERR_ARG, "%s: %zu bytes of push constants, the kernel takes %u", k->name,
                   push_bytes, k->push_bytes);
  VG_TRY(reserve_timestamp(vk)); /* may flush, so before the set is taken */
  VG_TRY(vk_check_bindable(vk, bufs, k->bindings));
  VkDescriptorSet set;
  VG_TRY(alloc_set(vk, pl, &set));
  vk_buffer *reads[VK_MAX_BINDINGS], *writes[VK_MAX_BINDINGS];
  uint32_t nr = 0, nw = 0;
  VkDescriptorBufferInfo infos[VK_MAX_BINDINGS];
  VkWriteDescriptorSet dw[VK_MAX_BINDINGS];
  for (uint32_t i = 0; i < k->bindings; i++) {
    if (k->writes & (1u << i))
      writes[nw++] = bufs[i];
    else
      reads[nr++] = bufs[i];
    infos[i] = (VkDescriptorBufferInfo){bufs[i]->buffer, 0, VK_WHOLE_SIZE};
    dw[i] = (VkWriteDescriptorSet){
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = set,
        .dstBinding = i,
        .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .pBufferInfo = &infos[i],
    };
  }
  vkUpdateDescriptorSets(vk->device, k->bindings, dw, 0, NULL);
  VG_TRY(vk_access(vk, reads, nr, writes, nw));
  vkCmdBindPipeline(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
  vkCmdBindDescriptorSets(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, 1, &set, 0, NULL);
  vkCmdPushConstants(vk->cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, k->push_bytes, push);
  vkCmdDispatch(vk->cmd, gx, gy, gz);
  vk_profile_mark(vk);
  return VG_OK;
}

vg_status vk_copy(vk_backend *vk, vk_buffer *src, VkDeviceSize src_off, vk_buffer *dst,
                  VkDeviceSize dst_off, VkDeviceSize bytes) {
  VG_TRY(reserve_timestamp(vk));
  VG_TRY(vk_access(vk, &src, 1, &dst, 1));
  VkBufferCopy region = {src_off, dst_off, bytes};
  vkCmdCopyBuffer(vk->cmd, src->buffer, dst->buffer, 1, &region);
  vk_profile_mark(vk);
  return VG_OK;
}

/* Submits what was recorded and waits; the host may then read every buffer. */
vg_status vk_flush(vk_backend *vk) {
  if (!vk->recording)
    return VG_OK;
  barrier(vk, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  vk->recording = 0;
  vk->batch++;
  vk->epoch++;
  VK_TRY(vkEndCommandBuffer(vk->cmd), "vkEndCommandBuffer");
  VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &vk->cmd,
  };
  VkResult r = vk_fault_check(vk, VK_FAULT_LOST);
  if (r == VK_SUCCESS)
    r = vkQueueSubmit(vk->queue, 1, &submit, vk->fence);
  if (r == VK_SUCCESS)
    r = vkWaitForFences(vk->device, 1, &vk->fence, VK_TRUE, UINT64_MAX);
  if (r == VK_SUCCESS) {
    vg_status ps = vk_profile_collect(vk);
    if (ps != VG_OK)
      r = VK_ERROR_UNKNOWN;
  }
  vkResetFences(vk->device, 1, &vk->fence);
  vkResetDescriptorPool(vk->device, vk->desc_pool, 0);
  vk->sets_used = 0;
  vk_free_garbage(vk);
  if (r != VK_SUCCESS)
    return vg_fail(VG_ERR_DEVICE, "the compute submission on %s failed (%s)", vk->props.deviceName,
                   vk_result_name(r));
  return VG_OK;
}

uint32_t vk_groups_for(const vk_backend *vk, uint64_t n, uint32_t per_group) {
  uint64_t groups = (n + per_group - 1) / per_group;
  uint64_t cap = vk->props.limits.maxComputeWorkGroupCount[0];
  if (groups > cap)
    groups = cap;
  return groups ? (uint32_t)groups : 1;
}
