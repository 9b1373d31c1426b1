#version 450
// partial[c, i] = min over bank rows j of chunk c of (1 - q[i,:] . bank[j,:]):
// MVFA's few-shot distance. A workgroup takes BM query rows (grid x) and one
// chunk of chunk_rows bank rows (grid y), walks the chunk in BN-row tiles
// computed like matmul.comp (BK-wide K slices in shared memory, TM x TN per
// invocation) and keeps a running min per query row, so the q x bank product
// never exists beyond one tile. min_reduce.comp then takes the min over chunks.

#define TM 4
#define TN 4

layout(local_size_x_id = 0) in; // (BM / TM) * (BN / TN)
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer Bank { float bank[]; };
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };

layout(push_constant) uniform Params {
  uint m, n, k, chunk_rows;
} p;

shared float qs[BK * BM];
shared float bs[BK * BN];
shared float red[BM * (BN / TN)];

void main() {
  const uint threads = gl_WorkGroupSize.x;
  const uint tid = gl_LocalInvocationID.x;
  const uint thr_n = BN / TN, thr_m = BM / TM;
  const uint tr = tid / thr_n, tc = tid % thr_n;
  const uint row0 = gl_WorkGroupID.x * BM;
  const uint begin = gl_WorkGroupID.y * p.chunk_rows;
  const uint end = min(begin + p.chunk_rows, p.n);

  float best[TM];
  for (uint i = 0; i < TM; i++)
    best[i] = uintBitsToFloat(0x7f800000u); // +inf

  for (uint col0 = begin; col0 < end; col0 += BN) {
    float acc[TM][TN];
    for (uint i = 0; i < TM; i++)
      for (uint j = 0; j < TN; j++)
        acc[i][j] = 0.0;
    for (uint k0 = 0; k0 < p.k; k0 += BK) {
      for (uint e = tid; e < BM * BK; e += threads) {
        const uint r = e / BK, c = e % BK, gr = row0 + r, gc = k0 + c;
        qs[c * BM + r] = (gr < p.m && gc < p.k) ? q[gr * p.k + gc] : 0.0;
      }
      for (uint e = tid; e < BN * BK; e += threads) {
        const uint r = e / BK, c = e % BK, gr = col0 + r, gc = k0 + c;
        bs[c * BN + r] = (gr < end && gc < p.k) ? bank[gr * p.k + gc] : 0.0;
      }
      barrier();
      for (uint kk = 0; kk < BK; kk++) {
        float qr[TM], br[TN];
        for (uint i = 0; i < TM; i++)
          qr[i] = qs[kk * BM + tr + i * thr_m];
        for (uint j = 0; j < TN; j++)
          br[j] = bs[kk * BN + tc + j * thr_n];
        for (uint i = 0; i < TM; i++)
          for (uint j = 0; j < TN; j++)
            acc[i][j] = fma(qr[i], br[j], acc[i][j]);
      }
      barrier();
    }
    for (uint j = 0; j < TN; j++)
      if (col0 + tc + j * thr_n < end)
        for (uint i = 0; i < TM; i++)
          best[i] = min(best[i], 1.0 - acc[i][j]);
  }

  for (uint i = 0; i < TM; i++)
    red[(tr + i * thr_m) * thr_n + tc] = best[i];
  barrier();
  for (uint r = tid; r < BM; r += threads) {
    float v = red[r * thr_n];
    for (uint t = 1; t < thr_n; t++)
      v = min(v, red[r * thr_n + t]);
    if (row0 + r < p.m)
      partial[gl_WorkGroupID.y * p.m + row0 + r] = v;
  }
}
