#version 450
#extension GL_GOOGLE_include_directive : require
// out[r] = mean of row r of x, one workgroup per row (grid-stride over rows);
// the tree sum keeps the rounding error near log2(cols) ulps.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint rows, cols;
} p;

#include "reduce.glsl"

void main() {
  const uint tid = gl_LocalInvocationID.x, threads = gl_WorkGroupSize.x;
  for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
    float s = 0.0;
    for (uint i = tid; i < p.cols; i += threads)
      s += x[r * p.cols + i];
    const float total = workgroup_sum(s);
    if (tid == 0u)
      o[r] = total / float(p.cols);
  }
}
