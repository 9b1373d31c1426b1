#version 450
// CLIP's patch embedding input (conv1 with stride = kernel as a matmul):
// out[(b, gy, gx), (ch, ky, kx)] = images[b, ch, gy * P + ky, gx * P + kx],
// one output element per invocation (grid-stride). images holds c images of
// 3 x S x S floats; G = S / P patches a side (pixels past G * P unused).

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Images { float img[]; };
layout(std430, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint total, side, psize, grid;
} p;

void main() {
  const uint k = 3u * p.psize * p.psize, cells = p.grid * p.grid;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint idx = gl_GlobalInvocationID.x; idx < p.total; idx += stride) {
    const uint row = idx / k, col = idx % k;
    const uint b = row / cells, cell = row % cells;
    const uint gy = cell / p.grid, gx = cell % p.grid;
    const uint ch = col / (p.psize * p.psize), ky = (col / p.psize) % p.psize, kx = col % p.psize;
    o[idx] = img[((b * 3u + ch) * p.side + gy * p.psize + ky) * p.side + gx * p.psize + kx];
  }
}
