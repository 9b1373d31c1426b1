#version 450
// out[j] = softmax over i < k of x[i, j], entry `pick`: MVFA's softmax over
// {normal, abnormal} logits, one column per invocation (grid-stride). As
// torch.softmax: the column's max is subtracted before exponentiating.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint k, n, pick;
} p;

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint j = gl_GlobalInvocationID.x; j < p.n; j += stride) {
    float m = x[j];
    for (uint i = 1u; i < p.k; i++)
      m = max(m, x[i * p.n + j]);
    float sum = 0.0;
    for (uint i = 0u; i < p.k; i++)
      sum += exp(x[i * p.n + j] - m);
    o[j] = exp(x[p.pick * p.n + j] - m) / sum;
  }
}
