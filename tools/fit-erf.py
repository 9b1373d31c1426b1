#!/usr/bin/python3
"""Fits the erf polynomials of shaders/activation.comp and checks them.

GLSL has no erf, and exact GELU needs one accurate to float rounding (~1e-7).
erf is split into |x| < 1, where erf(x) = x * P(2 x^2 - 1), and unit intervals
[k, k + 1) for k = 1, 2, 3, where erf(x) = P_k(2 (x - k - 0.5)); erf rounds to
1 in float beyond 4. Each P is Chebyshev interpolation (degree 9 and 13) in a
variable on [-1, 1], converted to power form, so Horner evaluation is stable.
The check evaluates the result in float32 arithmetic on a dense grid.

Run: OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tools/fit-erf.py
"""
import math

import numpy as np
from numpy.polynomial import chebyshev as C

erf = np.vectorize(math.erf)


def fit(f, a, b, deg):
    c, h = (a + b) / 2, (b - a) / 2
    return c, h, C.cheb2poly(C.chebinterpolate(lambda u: f(c + h * u), deg))


def erf_over_x(s):
    r = np.sqrt(np.maximum(s, 1e-300))
    return np.where(s == 0, 2 / math.sqrt(math.pi), erf(r) / r)


FITS = {'SMALL': fit(erf_over_x, 0.0, 1.0, 9)}
for k in (1, 2, 3):
    FITS['R%d' % k] = fit(erf, float(k), float(k + 1), 13)


def horner(p, u):
    r = np.float32(0)
    for c in p[::-1]:
        r = np.float32(r * u + np.float32(c))
    return r


def erf32(x):
    t = abs(np.float32(x))
    if t < 1:
        c, h, p = FITS['SMALL']
        r = np.float32(t * horner(p, np.float32((t * t - np.float32(c)) / np.float32(h))))
    elif t < 4:
        c, h, p = FITS['R%d' % int(t)]
        r = horner(p, np.float32((t - np.float32(c)) / np.float32(h)))
    else:
        r = np.float32(1)
    return math.copysign(float(r), float(x))


def main():
    for name, (_, _, p) in FITS.items():
        print('const float ERF_%s[%d] = float[](%s);' %
              (name, len(p), ', '.join('%.9e' % v for v in p)))
    xs = np.linspace(-6, 6, 200001).astype(np.float32)
    err = max(abs(erf32(x) - math.erf(float(x))) for x in xs)
    print('// max abs error in float32 on [-6, 6]: %.3g' % err)


if __name__ == '__main__':
    main()
