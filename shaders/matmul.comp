#version 450
// out[M,N] = a[M,K] * w[N,K]^T (+ bias[1,N]): a tiled GEMM. Each workgroup
// computes a BM x BN output tile; each invocation a TM x TN block of it,
// strided so neighbouring invocations touch neighbouring shared-memory words.
// K advances in BK-wide slices staged in shared memory. Edges are zero-padded
// on load and masked on store, so no dimension has to be a tile multiple.
// Weights: F32, or F16 widened to F32 on load (accumulation is always F32),
// read as float16_t with 16-bit storage (W_F16) or unpacked from 32-bit words
// (W_PACKED) on devices without it.
#if defined(W_F16)
#extension GL_EXT_shader_16bit_storage : require
#endif

#define TM 4
#define TN 4

layout(local_size_x_id = 0) in; // (BM / TM) * (BN / TN)
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;

layout(std430, binding = 0) readonly buffer A { float a[]; };
#if defined(W_F16)
layout(std430, binding = 1) readonly buffer W { float16_t w[]; };
#elif defined(W_PACKED)
layout(std430, binding = 1) readonly buffer W { uint w[]; };
#else
layout(std430, binding = 1) readonly buffer W { float w[]; };
#endif
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint m, n, k;
  uint has_bias;
} p;

shared float as[BK * BM];
shared float ws[BK * BN];

float weight(uint i) {
#if defined(W_PACKED)
  vec2 pair = unpackHalf2x16(w[i >> 1]);
  return (i & 1u) == 0u ? pair.x : pair.y;
#else
  return float(w[i]);
#endif
}

void main() {
  const uint threads = gl_WorkGroupSize.x;
  const uint tid = gl_LocalInvocationID.x;
  const uint thr_n = BN / TN, thr_m = BM / TM;
  const uint tr = tid / thr_n, tc = tid % thr_n;
  const uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;

  float acc[TM][TN];
  for (uint i = 0; i < TM; i++)
    for (uint j = 0; j < TN; j++)
      acc[i][j] = 0.0;

  for (uint k0 = 0; k0 < p.k; k0 += BK) {
    for (uint e = tid; e < BM * BK; e += threads) {
      const uint r = e / BK, c = e % BK, gr = row0 + r, gc = k0 + c;
      as[c * BM + r] = (gr < p.m && gc < p.k) ? a[gr * p.k + gc] : 0.0;
    }
    for (uint e = tid; e < BN * BK; e += threads) {
      const uint r = e / BK, c = e % BK, gr = col0 + r, gc = k0 + c;
      ws[c * BN + r] = (gr < p.n && gc < p.k) ? weight(gr * p.k + gc) : 0.0;
    }
    barrier();
    for (uint kk = 0; kk < BK; kk++) {
      float ar[TM], wr[TN];
      for (uint i = 0; i < TM; i++)
        ar[i] = as[kk * BM + tr + i * thr_m];
      for (uint j = 0; j < TN; j++)
        wr[j] = ws[kk * BN + tc + j * thr_n];
      for (uint i = 0; i < TM; i++)
        for (uint j = 0; j < TN; j++)
          acc[i][j] = fma(ar[i], wr[j], acc[i][j]);
    }
    barrier();
  }

  for (uint i = 0; i < TM; i++) {
    const uint gr = row0 + tr + i * thr_m;
    for (uint j = 0; j < TN; j++) {
      const uint gc = col0 + tc + j * thr_n;
      if (gr < p.m && gc < p.n)
        o[gr * p.n + gc] = acc[i][j] + (p.has_bias != 0u ? bias[gc] : 0.0);
    }
  }
}
