#version 450
#extension GL_GOOGLE_include_directive : require
// out = (x - mean) / sqrt(var + eps) * gamma + beta, one workgroup per row
// (grid-stride over rows). Two passes over the row, mean then variance about
// the mean, keep the float result close to the CPU's double sums.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 2) readonly buffer Beta { float beta[]; };
layout(std430, binding = 3) buffer Out { float o[]; };

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
      s += x[base + i];
    const float mean = workgroup_sum(s) / float(p.cols);
    float v = 0.0;
    for (uint i = tid; i < p.cols; i += threads) {
      const float d = x[base + i] - mean;
      v = fma(d, d, v);
    }
    const float inv = 1.0 / sqrt(workgroup_sum(v) / float(p.cols) + p.eps);
    for (uint i = tid; i < p.cols; i += threads)
      o[base + i] = (x[base + i] - mean) * inv * gamma[i] + beta[i];
  }
}
