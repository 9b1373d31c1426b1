#version 450
// out = alpha * a + beta * b, element-wise: residual adds and MVFA's 0.8/0.1/0.1 mix.
// A grid-stride loop keeps the dispatch within maxComputeWorkGroupCount for any n.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint n;
  float alpha;
  float beta;
} p;

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
    o[i] = p.alpha * a[i] + p.beta * b[i];
  }
}
