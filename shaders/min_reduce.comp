#version 450
// out[i] = min over c < chunks of partial[c, i]: min_distance.comp's second pass.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Partial { float partial[]; };
layout(std430, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint m, chunks;
} p;

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.m; i += stride) {
    float v = partial[i];
    for (uint c = 1u; c < p.chunks; c++)
      v = min(v, partial[c * p.m + i]);
    o[i] = v;
  }
}
