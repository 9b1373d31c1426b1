#version 450
// out[M,N] = a[M,K] * w[N,K]^T (+ bias[1,N]) on cooperative matrices
// (GL_NV_cooperative_matrix): F16 x F16 products accumulated in F32, the
// same contract as matmul.comp with F16 weights. A is F32 activations; each
// BM x BK slice of it is rounded to F16 as it is staged in shared memory
// (the one precision loss against matmul.comp; F16 spans +-65504, far beyond
// the post-LayerNorm/GELU activations the GEMMs see). Tiles are zero-padded
// in shared memory, so M, N and K need not be fragment or tile multiples.
//
// A workgroup of SG subgroups computes a BM x BN tile; subgroups form a
// (SG / WN) x WN grid, each owning a block of lM x lN accumulator fragments.
// Results go through a per-subgroup lM x lN scratch in shared memory, where
// the bias is added and rows/columns past M/N are masked.
//
// -DEMULATE builds a stand-in for tests on devices without cooperative
// matrices (lavapipe): the same tiling, staging, offsets and stores, with the
// three matrix ops replaced by plain GLSL of the same memory semantics, and
// "subgroups" of EMU_LANES consecutive invocations synchronised by barrier().
#if !defined(EMULATE)
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#endif
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#if defined(EMULATE)
// A rolled fragment loop keeps lavapipe's compile time in seconds; the inner
// loops stay unrolled because lavapipe ends a shader invocation's loops after
// 65535 iterations in all (gallivm's loop limiter), which K = 1024 would pass.
#extension GL_EXT_control_flow_attributes : require
#define NO_UNROLL [[dont_unroll]]
#define UNROLL [[unroll]]
#else
#define NO_UNROLL
#define UNROLL
#endif

layout(local_size_x_id = 0) in; // SG * subgroup size
layout(constant_id = 1) const uint BM = 128;
layout(constant_id = 2) const uint BN = 128;
layout(constant_id = 3) const uint BK = 32; // a multiple of lK and of 8
layout(constant_id = 4) const uint lM = 16; // fragment shape, queried from the device
layout(constant_id = 5) const uint lN = 16;
layout(constant_id = 6) const uint lK = 16;
layout(constant_id = 7) const uint SG = 8; // subgroups per workgroup
layout(constant_id = 8) const uint WN = 2; // subgroups along N

const uint WM = SG / WN;
const uint SM = BM / WM, SN = BN / WN; // one subgroup's block
const uint FM = SM / lM, FN = SN / lN; // its fragments
const uint AST = BK + 8;               // shared row stride in halves: 16-byte rows, fewer conflicts

#if defined(EMULATE)
layout(constant_id = 9) const uint EMU_LANES = 32;
const uint FE = (lM * lN + EMU_LANES - 1) / EMU_LANES; // accumulator elements per lane
#define SG_ID (gl_LocalInvocationID.x / EMU_LANES)
#define LANE (gl_LocalInvocationID.x % EMU_LANES)
#define LANES EMU_LANES
#define SG_SYNC() memoryBarrierShared(), barrier()
#else
#define SG_ID gl_SubgroupID
#define LANE gl_SubgroupInvocationID
#define LANES gl_SubgroupSize
#define SG_SYNC() subgroupMemoryBarrierShared(), subgroupBarrier()
#endif

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout(std430, binding = 1) readonly buffer W { float16_t w[]; };
layout(std430, binding = 1) readonly buffer W8 { uvec4 w8[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Params {
  uint m, n, k;
  uint has_bias;
} p;

shared float16_t as_[BM * AST];
shared float16_t ws_[BN * AST];
shared float cs_[SG * lM * lN];

// Stages a[row0.., k0..] (BM x BK) as F16, zero outside M x K.
void stage_a(uint row0, uint k0) {
  const uint threads = gl_WorkGroupSize.x;
  if (p.k % 4u == 0u) {
    for (uint e = gl_LocalInvocationID.x; e < BM * BK / 4u; e += threads) {
      const uint r = e / (BK / 4u), c = (e % (BK / 4u)) * 4u, gr = row0 + r, gc = k0 + c;
      const vec4 v = (gr < p.m && gc < p.k) ? a4[(gr * p.k + gc) / 4u] : vec4(0.0);
      const uint s = r * AST + c;
      as_[s] = float16_t(v.x), as_[s + 1u] = float16_t(v.y);
      as_[s + 2u] = float16_t(v.z), as_[s + 3u] = float16_t(v.w);
    }
    return;
  }
  for (uint e = gl_LocalInvocationID.x; e < BM * BK; e += threads) {
    const uint r = e / BK, c = e % BK, gr = row0 + r, gc = k0 + c;
    as_[r * AST + c] = float16_t((gr < p.m && gc < p.k) ? a[gr * p.k + gc] : 0.0);
  }
}

// Stages w[col0.., k0..] (BN x BK), zero outside N x K; 8 halves a load when K allows.
void stage_w(uint col0, uint k0) {
  const uint threads = gl_WorkGroupSize.x;
  if (p.k % 8u == 0u) {
    for (uint e = gl_LocalInvocationID.x; e < BN * BK / 8u; e += threads) {
      const uint r = e / (BK / 8u), c = (e % (BK / 8u)) * 8u, gr = col0 + r, gc = k0 + c;
      const uvec4 v = (gr < p.n && gc < p.k) ? w8[(gr * p.k + gc) / 8u] : uvec4(0u);
      const uint s = r * AST + c;
      for (uint q = 0u; q < 4u; q++) {
        const f16vec2 h = unpackFloat2x16(v[q]);
        ws_[s + 2u * q] = h.x, ws_[s + 2u * q + 1u] = h.y;
      }
    }
    return;
  }
  for (uint e = gl_LocalInvocationID.x; e < BN * BK; e += threads) {
    const uint r = e / BK, c = e % BK, gr = col0 + r, gc = k0 + c;
    ws_[r * AST + c] = (gr < p.n && gc < p.k) ? w[gr * p.k + gc] : float16_t(0.0);
  }
}

void main() {
  const uint sg = SG_ID, sgm = sg / WN, sgn = sg % WN;
  const uint row0 = gl_WorkGroupID.y * BM, col0 = gl_WorkGroupID.x * BN;

#if defined(EMULATE)
  // Accumulator element e = LANE + t * LANES of each fragment, row-major.
  float acc[FM * FN][FE];
  for (uint f = 0; f < FM * FN; f++)
    for (uint t = 0; t < FE; t++)
      acc[f][t] = 0.0;
#else
  fcoopmatNV<32, gl_ScopeSubgroup, lM, lN> acc[FM * FN];
  for (uint i = 0; i < FM * FN; i++)
    acc[i] = fcoopmatNV<32, gl_ScopeSubgroup, lM, lN>(0.0);
#endif

  for (uint k0 = 0; k0 < p.k; k0 += BK) {
    stage_a(row0, k0);
    stage_w(col0, k0);
    barrier();
    for (uint kk = 0; kk < BK; kk += lK) {
#if defined(EMULATE)
      // coopMatLoadNV row-major: A(r, q) = as_[oa + r * AST + q]; column-major:
      // B(q, c) = ws_[ob + c * AST + q]; then acc += A B.
      NO_UNROLL for (uint f = 0; f < FM * FN; f++) {
        const uint oa = (sgm * SM + (f / FN) * lM) * AST + kk;
        const uint ob = (sgn * SN + (f % FN) * lN) * AST + kk;
        UNROLL for (uint t = 0; t < FE; t++) {
          const uint e = LANE + t * LANES, r = e / lN, c = e % lN;
          if (e < lM * lN)
            UNROLL for (uint q = 0; q < lK; q++)
              acc[f][t] += float(as_[oa + r * AST + q]) * float(ws_[ob + c * AST + q]);
        }
      }
#else
      fcoopmatNV<16, gl_ScopeSubgroup, lM, lK> fa[FM];
      for (uint i = 0; i < FM; i++)
        coopMatLoadNV(fa[i], as_, (sgm * SM + i * lM) * AST + kk, AST, false);
      for (uint j = 0; j < FN; j++) {
        // The W tile is N x K row-major: the K x N operand, column-major.
        fcoopmatNV<16, gl_ScopeSubgroup, lK, lN> fb;
        coopMatLoadNV(fb, ws_, (sgn * SN + j * lN) * AST + kk, AST, true);
        for (uint i = 0; i < FM; i++)
          acc[i * FN + j] = coopMatMulAddNV(fa[i], fb, acc[i * FN + j]);
      }
#endif
    }
    barrier();
  }

  const uint scratch = sg * lM * lN;
  for (uint i = 0; i < FM; i++) {
    for (uint j = 0; j < FN; j++) {
#if defined(EMULATE)
      for (uint t = 0; t < FE; t++)
        if (LANE + t * LANES < lM * lN)
          cs_[scratch + LANE + t * LANES] = acc[i * FN + j][t];
#else
      coopMatStoreNV(acc[i * FN + j], cs_, scratch, lN, false);
#endif
      SG_SYNC();
      const uint r0 = row0 + sgm * SM + i * lM, c0 = col0 + sgn * SN + j * lN;
      for (uint e = LANE; e < lM * lN; e += LANES) {
        const uint gr = r0 + e / lN, gc = c0 + e % lN;
        if (gr < p.m && gc < p.n)
          o[gr * p.n + gc] = cs_[scratch + e] + (p.has_bias != 0u ? bias[gc] : 0.0);
      }
      SG_SYNC(); // the scratch is rewritten by the next fragment
    }
  }
}
