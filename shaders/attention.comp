#version 450
// out[S*T,D] = softmax(Q K^T / sqrt(hd)) V per head and sequence, from packed
// qkv[S*T,3D] (q | k | v, heads side by side in each): S sequences of T rows
// (images of a batch) stacked, each attending only within itself; the
// workgroup's z index is the sequence. Flash-attention style: a workgroup
// takes BR query rows of one head (one invocation per row), walks the keys in
// BC-row tiles of K and V staged in shared memory, and keeps a running max,
// sum and output per row (online softmax), so no T x T score matrix exists.
// The head size HD is a specialization constant so the per-row arrays live in
// registers; the host builds one pipeline per head size it meets.

layout(local_size_x_id = 0) in; // BR
layout(constant_id = 1) const uint BC = 32;
layout(constant_id = 2) const uint HD = 64;

layout(std430, binding = 0) readonly buffer QKV { float qkv[]; };
layout(std430, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint t, d; // t: rows per sequence
  uint causal;
  float scale;
} p;

shared float ks[BC * HD];
shared float vs[BC * HD];

void main() {
  const uint br = gl_WorkGroupSize.x, tid = gl_LocalInvocationID.x;
  const uint head = gl_WorkGroupID.y, q0 = gl_WorkGroupID.x * br, row = q0 + tid;
  const bool live = row < p.t;
  const uint ld = 3u * p.d, hoff = head * HD;
  const uint base = gl_WorkGroupID.z * p.t; // the sequence's first row

  float q[HD], acc[HD];
  for (uint c = 0; c < HD; c++) {
    q[c] = live ? qkv[(base + row) * ld + hoff + c] * p.scale : 0.0;
    acc[c] = 0.0;
  }
  float m = -1.0 / 0.0, l = 0.0;

  // Causal rows of this block see keys up to their own index only.
  const uint kv_end = p.causal != 0u ? min(p.t, q0 + br) : p.t;
  for (uint j0 = 0; j0 < kv_end; j0 += BC) {
    for (uint e = tid; e < BC * HD; e += br) {
      const uint j = j0 + e / HD, c = e % HD;
      const bool inside = j < p.t;
      ks[e] = inside ? qkv[(base + j) * ld + p.d + hoff + c] : 0.0;
      vs[e] = inside ? qkv[(base + j) * ld + 2u * p.d + hoff + c] : 0.0;
    }
    barrier();
    if (live) {
      float s[BC];
      float mt = m;
      for (uint jj = 0; jj < BC; jj++) {
        const uint j = j0 + jj;
        float dot = 0.0;
        for (uint c = 0; c < HD; c++)
          dot = fma(q[c], ks[jj * HD + c], dot);
        const bool valid = j < p.t && (p.causal == 0u || j <= row);
        s[jj] = valid ? dot : -1.0 / 0.0;
        mt = max(mt, s[jj]);
      }
      // Key 0 is valid for every row, so mt is finite from the first tile on.
      const float corr = exp(m - mt);
      l *= corr;
      for (uint c = 0; c < HD; c++)
        acc[c] *= corr;
      for (uint jj = 0; jj < BC; jj++) {
        const float e = exp(s[jj] - mt);
        l += e;
        for (uint c = 0; c < HD; c++)
          acc[c] = fma(e, vs[jj * HD + c], acc[c]);
      }
      m = mt;
    }
    barrier();
  }
  if (live)
    for (uint c = 0; c < HD; c++)
      o[(base + row) * p.d + hoff + c] = acc[c] / l;
}
