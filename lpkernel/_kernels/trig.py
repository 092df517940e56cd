"""Vectorizable cosine for the fused feature loop.

Inside a Numba loop ``np.cos`` is a scalar libm call and stops LLVM from
vectorizing (DESIGN §3 speed note). These helpers reduce the argument to
[-pi, pi] (Cody–Waite: 2*pi split into constants whose products with the
period count are exact), fold it to [0, pi/2] with cos(x) = -cos(pi - x), and
evaluate the Taylor polynomial:

* ``cos32``: all in float32 (8 lanes per AVX2 op); terms up to x^12/12!,
  truncation error < (pi/2)^14/14! = 6.5e-9, below float32 rounding (6e-8).
  The reduction error grows with |t| but stays below the rounding of the
  float32 argument itself (ulp(t)) for |t| <= ``LIMIT32``.
* ``cos64``: float64; terms up to x^22/22!, truncation error < 1e-19, below
  float64 rounding; reduction error below ulp(t) for |t| <= ``LIMIT64``.

Beyond those limits the reduction breaks down (|cos| can exceed 1), so the
feature loop recomputes such rare elements with libm's cosine in float64:
per element, so a row's features never depend on its chunk.

Branches are selects, so the loop around them vectorizes.
"""

import numpy as np

from .._config import inline

_INV_2PI = 0.15915494309189535
_2PI_HI = 6.283185307179586
_2PI_LO = 2.4492935982947064e-16
_PI_HI = 3.141592653589793
_PI_LO = 1.2246467991473532e-16
_HALF_PI = 1.5707963267948966

_C0, _C1, _C2, _C3 = 1.0, -0.5, 0.041666666666666664, -0.001388888888888889
_C4, _C5, _C6 = 2.48015873015873e-05, -2.755731922398589e-07, 2.08767569878681e-09
_C7, _C8 = -1.1470745597729725e-11, 4.779477332387385e-14
_C9, _C10 = -1.5619206968586225e-16, 4.110317623312165e-19
_C11 = -8.896791392450574e-22

#: Largest |t| the polynomial paths handle; larger arguments go to libm.
LIMIT32 = 1.0e5
LIMIT64 = 1.0e6

_INV_2PI_F = np.float32(_INV_2PI)
# 2*pi and pi in three float32 pieces; the first has 8 significant bits, so k * piece 1 is exact
_2PI_F1 = np.float32(6.28125)
_2PI_F2 = np.float32(0.0019353071693331003)
_2PI_F3 = np.float32(1.0253131677018246e-11)
_PI_F1 = np.float32(3.140625)
_PI_F2 = np.float32(0.0009676535846665502)
_PI_F3 = np.float32(5.126565838509123e-12)
_HALF_PI_F = np.float32(_HALF_PI)
_HALF_F = np.float32(0.5)

_F0, _F1, _F2 = np.float32(_C0), np.float32(_C1), np.float32(_C2)
_F3, _F4 = np.float32(_C3), np.float32(_C4)
_F5, _F6 = np.float32(_C5), np.float32(_C6)


@inline
def _fold(t):
    """Reduce float64 t to a in [0, pi/2] and the sign of cos(t)."""
    k = np.floor(t * _INV_2PI + 0.5)
    r = (t - k * _2PI_HI) - k * _2PI_LO
    a = np.abs(r)
    flip = a > _HALF_PI
    a = (_PI_HI - a) + _PI_LO if flip else a
    return a, flip


@inline
def cos64(t):
    """cos(t) for a float64 t, to float64 rounding for |t| up to about 1e6."""
    a, flip = _fold(t)
    x = a * a
    c = _C11
    c = c * x + _C10
    c = c * x + _C9
    c = c * x + _C8
    c = c * x + _C7
    c = c * x + _C6
    c = c * x + _C5
    c = c * x + _C4
    c = c * x + _C3
    c = c * x + _C2
    c = c * x + _C1
    c = c * x + _C0
    return -c if flip else c


@inline
def cos32(t):
    """cos(t) for a float32 t, returned as float32, to float32 rounding."""
    t = np.float32(t)
    k = np.floor(t * _INV_2PI_F + _HALF_F)
    r = ((t - k * _2PI_F1) - k * _2PI_F2) - k * _2PI_F3
    a = np.abs(r)
    flip = a > _HALF_PI_F
    a = ((_PI_F1 - a) + _PI_F2) + _PI_F3 if flip else a
    x = a * a
    c = _F6
    c = c * x + _F5
    c = c * x + _F4
    c = c * x + _F3
    c = c * x + _F2
    c = c * x + _F1
    c = c * x + _F0
    return -c if flip else c
