#version 450
// x = act(x) in place, grid-stride. Exact GELU needs erf, which GLSL lacks:
// erf here is piecewise polynomial, fitted by tools/fit-erf.py (Chebyshev
// interpolation in u in [-1, 1]; max abs error 9e-8 evaluated in float).

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer X { float x[]; };

layout(push_constant) uniform Params {
  uint n;
  uint act; // vg_activation: 0 GELU, 1 QuickGELU, 2 LeakyReLU
  float alpha;
} p;

// |x| < 1: erf(x) = x * P(2 x^2 - 1).
const float ERF_SMALL[10] = float[](9.654687387e-01, -1.405360890e-01, 1.985249669e-02, -2.285485561e-03, 2.175171631e-04, -1.753716969e-05, 1.223362830e-06, -7.511494005e-08, 4.138645693e-09, -2.044316716e-10);
// 1 <= |x| < 4: erf(x) = P_k(2 (|x| - k - 0.5)) on [k, k + 1).
const float ERF_R1[14] = float[](9.661051465e-01, 5.946514461e-02, -4.459885845e-02, 1.734400051e-02, -2.787428807e-03, -4.645714412e-04, 3.019723549e-04, -3.705511178e-05, -9.231831555e-06, 3.339520532e-06, -8.687261145e-08, -1.242923255e-07, 1.611460578e-08, 2.235797833e-09);
const float ERF_R2[14] = float[](9.995930480e-01, 1.089142115e-03, -1.361427644e-03, 1.043761194e-03, -5.388984424e-04, 1.911671280e-04, -4.372641369e-05, 4.237600649e-06, 1.018269280e-06, -4.889015932e-07, 7.690085470e-08, 2.600700100e-09, -3.391741237e-09, 5.051593429e-10);
const float ERF_R3[14] = float[](9.999992569e-01, 2.699713390e-06, -4.724498193e-06, 5.286938685e-06, -4.232365987e-06, 2.566134089e-06, -1.214742240e-06, 4.546300281e-07, -1.338442682e-07, 2.994408581e-08, -4.522913092e-09, 2.164922210e-10, 1.148318266e-10, -3.689949933e-11);

float poly10(const float c[10], float u) {
  float r = c[9];
  for (int i = 8; i >= 0; i--)
    r = fma(r, u, c[i]);
  return r;
}

float poly14(const float c[14], float u) {
  float r = c[13];
  for (int i = 12; i >= 0; i--)
    r = fma(r, u, c[i]);
  return r;
}

float erf_approx(float v) {
  const float t = abs(v);
  float r;
  if (t < 1.0)
    r = t * poly10(ERF_SMALL, 2.0 * t * t - 1.0);
  else if (t < 2.0)
    r = poly14(ERF_R1, 2.0 * (t - 1.5));
  else if (t < 3.0)
    r = poly14(ERF_R2, 2.0 * (t - 2.5));
  else if (t < 4.0)
    r = poly14(ERF_R3, 2.0 * (t - 3.5));
  else
    r = 1.0; // erf(4) = 1 - 1.5e-8 rounds to 1 in float
  return v < 0.0 ? -r : r;
}

float act(float v) {
  if (p.act == 0u)
    return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752));
  if (p.act == 1u)
    return v / (1.0 + exp(-1.702 * v));
  return v < 0.0 ? p.alpha * v : v;
}

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride)
    x[i] = act(x[i]);
}
