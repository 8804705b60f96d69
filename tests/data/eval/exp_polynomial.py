"""The coefficients of `EXP_POLYNOMIAL` in src/ops/math.rs: exp on
|r| <= ln(2)/2 + 0.001 (the reduced argument of `exp_rounded_to_f32`,
with room for the rounding of its reduction) as the degree-7 Chebyshev
interpolant, which is within a small factor of the minimax polynomial,
converted to powers of r. Prints them and their largest relative error,
measured in long double on 200001 points.

Run: python3 exp_polynomial.py (needs numpy).
"""

import numpy as np
from numpy.polynomial import chebyshev

A = np.log(2) / 2 + 1e-3
DEGREE = 7

c = chebyshev.chebinterpolate(lambda t: np.exp(t * A), DEGREE)
p = chebyshev.cheb2poly(c) / A ** np.arange(DEGREE + 1)
r = np.linspace(-A, A, 200001).astype(np.longdouble)
v = np.zeros_like(r)
for k in range(DEGREE, -1, -1):
    v = v * r + np.longdouble(p[k])
print("coefficients:", [repr(float(x)) for x in p])
print("max relative error:", float(np.max(np.abs(v / np.exp(r) - 1))))
