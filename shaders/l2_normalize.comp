#version 450
#extension GL_GOOGLE_include_directive : require
// out = x / max(|x|_2, eps) per row, one workgroup per row; a zero row with
// eps = 0 stays zero, as on the CPU. out may alias x: each invocation writes
// only the elements it read itself.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint rows, cols;
  float eps;
} p;

#include "reduce.glsl"

void main() {
  const uint tid = gl_LocalInvocationID.x, threads = gl_WorkGroupSize.x;
  for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
    const uint base = r * p.cols;
    float s = 0.0;
    for (uint i = tid; i < p.cols; i += threads)
      s = fma(x[base + i], x[base + i], s);
    const float norm = max(sqrt(workgroup_sum(s)), p.eps);
    const float inv = norm > 0.0 ? 1.0 / norm : 0.0;
    for (uint i = tid; i < p.cols; i += threads)
      o[base + i] = x[base + i] * inv;
  }
}
