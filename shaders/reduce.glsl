// Workgroup-wide sum through shared memory; the workgroup size must be a power
// of two. Every invocation must call it (it contains barriers) and gets the sum.
shared float red[gl_WorkGroupSize.x];

float workgroup_sum(float v) {
  const uint tid = gl_LocalInvocationID.x;
  red[tid] = v;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
    if (tid < s)
      red[tid] += red[tid + s];
    barrier();
  }
  const float total = red[0];
  barrier(); // red[] is reused by the next call
  return total;
}
