#version 450
// out[S*T,D] = softmax(Q K^T / sqrt(hd)) V per head and sequence, from packed
// qkv[S*T,3D] (q | k | v, heads side by side in each): S sequences of T rows
// (images of a batch) stacked, each attending only within itself; the
// workgroup's z index is the sequence. Flash-attention style: a workgroup
// takes BR query rows of one head, walks the keys in BC-row tiles of K and V
// staged in shared memory, and keeps a running max, sum and output per row
// (online softmax), so no T x T score matrix exists.
//
// With SPLIT, LANES neighbouring invocations of one subgroup share a query row,
// each holding every LANES-th channel of q and of the output: a dot product is
// LANES partial sums joined by subgroup shuffles. A row's serial work shrinks
// LANES times, which is what bounds a small batch (ViT-L at one image has
// 5 x 16 blocks of 64 rows: too few to fill a large GPU, each walking all 290
// keys alone). The workgroup size is BR * LANES.
// The head size HD is a specialization constant so the per-row arrays live in
// registers; the host builds one pipeline per head size it meets.

#ifdef SPLIT
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
layout(constant_id = 3) const uint LANES = 4;
#else
const uint LANES = 1;
#endif

layout(local_size_x_id = 0) in; // BR * LANES
layout(constant_id = 1) const uint BC = 32;
layout(constant_id = 2) const uint HD = 64;
const uint HL = HD / LANES; // channels per invocation

layout(std430, binding = 0) readonly buffer QKV { float qkv[]; };
layout(std430, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint t, d; // t: rows per sequence
  uint causal;
  float scale;
} p;

shared float ks[BC * HD];
shared float vs[BC * HD];

// The full dot product, in every lane of the row.
float join(float part) {
#ifdef SPLIT
  for (uint off = LANES / 2u; off > 0u; off >>= 1u)
    part += subgroupShuffleXor(part, off);
#endif
  return part;
}

void main() {
  const uint threads = gl_WorkGroupSize.x, br = threads / LANES, tid = gl_LocalInvocationID.x;
#ifdef SPLIT
  // Lanes of a row must sit in one subgroup, whatever its size.
  const uint idx = gl_SubgroupID * gl_SubgroupSize + gl_SubgroupInvocationID;
#else
  const uint idx = tid;
#endif
  const uint lane = idx % LANES;
  const uint head = gl_WorkGroupID.y, q0 = gl_WorkGroupID.x * br, row = q0 + idx / LANES;
  const bool live = row < p.t && idx < threads;
  const uint ld = 3u * p.d, hoff = head * HD + lane;
  const uint base = gl_WorkGroupID.z * p.t; // the sequence's first row

  // Rows past the end compute on zeros so every lane reaches the shuffles.
  float q[HL], acc[HL];
  for (uint i = 0; i < HL; i++) {
    q[i] = live ? qkv[(base + row) * ld + hoff + i * LANES] * p.scale : 0.0;
    acc[i] = 0.0;
  }
  float m = -1.0 / 0.0, l = 0.0;

  // Causal rows of this block see keys up to their own index only.
  const uint kv_end = p.causal != 0u ? min(p.t, q0 + br) : p.t;
  for (uint j0 = 0; j0 < kv_end; j0 += BC) {
    for (uint e = tid; e < BC * HD; e += threads) {
      const uint j = j0 + e / HD, c = e % HD;
      const bool inside = j < p.t;
      ks[e] = inside ? qkv[(base + j) * ld + p.d + head * HD + c] : 0.0;
      vs[e] = inside ? qkv[(base + j) * ld + 2u * p.d + head * HD + c] : 0.0;
    }
    barrier();
    float s[BC];
    for (uint jj = 0; jj < BC; jj++) {
      float dot = 0.0;
      for (uint i = 0; i < HL; i++)
        dot = fma(q[i], ks[jj * HD + lane + i * LANES], dot);
      s[jj] = dot;
    }
    float mt = m;
    for (uint jj = 0; jj < BC; jj++) {
      const uint j = j0 + jj;
      const bool valid = j < p.t && (p.causal == 0u || j <= row);
      const float full = join(s[jj]); // outside the branch: shuffles want all lanes
      s[jj] = valid ? full : -1.0 / 0.0;
      mt = max(mt, s[jj]);
    }
    // Key 0 is valid for every row, so mt is finite from the first tile on.
    const float corr = exp(m - mt);
    l *= corr;
    for (uint i = 0; i < HL; i++)
      acc[i] *= corr;
    for (uint jj = 0; jj < BC; jj++) {
      const float e = exp(s[jj] - mt);
      l += e;
      for (uint i = 0; i < HL; i++)
        acc[i] = fma(e, vs[jj * HD + lane + i * LANES], acc[i]);
    }
    m = mt;
    barrier();
  }
  if (live)
    for (uint i = 0; i < HL; i++)
      o[(base + row) * p.d + hoff + i * LANES] = acc[i] / l;
}
