#version 450
// out[p, out_h*out_w] = bilinear upsampling with align_corners=True of each
// in_h x in_w plane x[p, :], one output element per invocation (grid-stride).
// Index and weight arithmetic is PyTorch's CPU kernel (vg_upsample_bilinear):
// the scales come from the host as floats, and `precise` keeps every multiply
// and add separately rounded (no fused multiply-add), as in the C code.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint planes, in_h, in_w, out_h, out_w;
  float scale_h, scale_w;
} p;

struct Tap {
  uint i0, step;
  float w0, w1;
};

Tap tap(uint i, uint n_in, float scale) {
  precise float src = scale * float(i);
  const uint i0 = min(uint(floor(src)), n_in - 1u);
  precise float l = clamp(src - float(i0), 0.0, 1.0);
  precise float w0 = 1.0 - l;
  return Tap(i0, i0 < n_in - 1u ? 1u : 0u, w0, l);
}

void main() {
  const uint per = p.out_h * p.out_w, total = p.planes * per;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += stride) {
    const uint plane = idx / per, rem = idx % per;
    const Tap ty = tap(rem / p.out_w, p.in_h, p.scale_h);
    const Tap tx = tap(rem % p.out_w, p.in_w, p.scale_w);
    const uint r0 = plane * p.in_h * p.in_w + ty.i0 * p.in_w + tx.i0;
    const uint r1 = r0 + ty.step * p.in_w;
    precise float a = x[r0] * tx.w0 + x[r0 + tx.step] * tx.w1;
    precise float b = x[r1] * tx.w0 + x[r1 + tx.step] * tx.w1;
    precise float v = a * ty.w0 + b * ty.w1;
    o[idx] = v;
  }
}
