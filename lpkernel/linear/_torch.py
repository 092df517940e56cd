"""The torch array backend of the minibatch learners (``backend="torch"``).

Imported only when a learner asks for it, so lpkernel runs without torch.
Minibatches are dequantized on the CPU by the Numba kernel and then moved to
``device``; the arithmetic is the same code as the NumPy backend
(:func:`lpkernel.linear._minibatch.objective_and_gradient`), so both give the
same weights up to floating-point rounding.
"""

import numpy as np

try:
    import torch
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "backend='torch' needs PyTorch, which is not installed; install it "
        "(pip install 'lpkernel[torch]') or use backend='numpy'."
    ) from error

from ._halp import code_range

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


class TorchOps:
    """The array backend over torch tensors on one device."""

    name = "torch"

    def __init__(self, dtype, device=None):
        self.dtype = np.dtype(dtype)
        self.torch_dtype = _TORCH_DTYPES[self.dtype]
        try:
            self.device = torch.device("cpu" if device is None else device)
            torch.empty(0, device=self.device)
        except (RuntimeError, AssertionError) as error:
            raise ValueError(f"torch cannot use device={device!r}: {error}") from error

    def asarray(self, a):
        if isinstance(a, torch.Tensor):
            return a.to(device=self.device, dtype=self.torch_dtype)
        tensor = torch.from_numpy(np.ascontiguousarray(a, dtype=self.dtype))
        return tensor.to(self.device)

    def parameter(self, a):
        """A private copy on the device (from_numpy would share the caller's memory)."""
        return torch.tensor(np.asarray(a), dtype=self.torch_dtype, device=self.device)

    def labels(self, y):
        return torch.from_numpy(np.asarray(y, dtype=np.int64)).to(self.device)

    def numpy(self, a):
        return a.detach().cpu().numpy()

    def zeros_like(self, a):
        return torch.zeros_like(a)

    exp = staticmethod(torch.exp)
    sqrt = staticmethod(torch.sqrt)

    def logsumexp(self, S):
        return torch.logsumexp(S, dim=1)

    def take(self, S, y):
        return S.gather(1, y[:, None])[:, 0]

    def subtract_one_hot(self, P, y):
        P[torch.arange(y.shape[0], device=self.device), y] -= 1.0

    def round_offsets(self, values, scale, n_bits, key):
        low, high = code_range(n_bits)
        generator = torch.Generator(device=self.device).manual_seed(int(key))
        noise = torch.rand(values.shape, generator=generator, device=self.device,
                           dtype=torch.float64)
        codes = torch.floor(values.to(torch.float64) / scale + noise).clamp_(low, high)
        return codes.to(torch.int8 if n_bits <= 8 else torch.int16)

    def dequantize_offsets(self, codes, scale):
        return codes.to(self.torch_dtype) * scale
