"""Element-wise mpmath helpers on numpy object arrays, used only by the reference
(high-precision, independent) versions of the losses in cases.py / validate.py."""

import mpmath as mp
import numpy as np

mp.mp.dps = 60


def _u(f, nin=1):
    return np.frompyfunc(f, nin, 1)


exp = _u(mp.exp)
log = _u(mp.log)
tanh = _u(mp.tanh)
cosh = _u(mp.cosh)
sqrt = _u(mp.sqrt)
fabs = _u(mp.fabs)
relu = _u(lambda t: t if t > 0 else mp.mpf(0))
maximum = _u(lambda s, t: s if s >= t else t, 2)
minimum = _u(lambda s, t: s if s <= t else t, 2)
where = np.where


def sigmoid(z):
    return 1 / (1 + exp(-z))


def softplus(z):
    return log(1 + exp(z))


def clip(x, lo, hi):
    return minimum(maximum(x, mp.mpf(lo)), mp.mpf(hi))


def tomp(a):
    """Exact conversion of a float array / scalar to mpf (object array)."""
    if isinstance(a, np.ndarray):
        if a.dtype.kind == "f":
            out = np.empty(a.shape, dtype=object)
            flat = out.reshape(-1)
            for i, v in enumerate(a.reshape(-1)):
                flat[i] = mp.mpf(float(v))
            return out
        return a
    if isinstance(a, (float, np.floating)):
        return mp.mpf(float(a))
    return a
