"""Type stubs of the compiled extension deconv_core._kernels (see src_c/_kernels.pyx)."""
from typing import Any, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

_Float = npt.NDArray[np.floating[Any]]

class Kernel(NamedTuple):
    """One compiled kernel of the registry (src_c/registry/dc_kernels.def)."""
    name: str            # f32_tconv_chlast__avx512: dtype, op, family, ISA
    op: str              # "tconv", "conv" or "wgrad"
    family: str          # what _kernel= forces
    dtype: str           # "float32" or "float64"
    isa: str             # "portable", "avx2" or "avx512"
    tiles: Tuple[str, ...]  # its micro-kernels' register tiles ("12x2", ...)
    impl: str            # "c", or "blas" (the driver's matmul first)
    serves: str          # the shapes the planner gives it
    available: bool      # this CPU can run it

KERNELS: Tuple[Kernel, ...]
FAMILIES: dict[str, Tuple[str, ...]]   # per op, its kernel families in registry order
# (all of the table's, also those this CPU family has no build of: forcing one runs the
# op's direct kernel)

def conv_transpose(
    x: _Float,
    w: _Float,
    bias: Optional[_Float],
    out: _Float,
    stride: Sequence[int],
    pads: Sequence[Tuple[int, int]],
    dilation: Sequence[int],
    groups: int,
    num_threads: int,
    *,
    _kernel: Optional[str] = ...,  # private: a family of FAMILIES["tconv"]; None: planner
) -> None: ...
conv = conv_transpose  # same signature; weight layout (C_out, C_in/groups, *k); FAMILIES["conv"]

def weight_grad(
    u: _Float,
    v: _Float,
    out: _Float,
    stride: Sequence[int],
    pads: Sequence[Tuple[int, int]],
    dilation: Sequence[int],
    groups: int,
    num_threads: int,
    *,
    _kernel: Optional[str] = ...,  # private: a family of FAMILIES["wgrad"]
) -> None: ...  # out[c1, c2, t] = sum over n, p of u[c1, p] * v[c2, p*stride - pad + t*dilation]

def bias_grad(gy: _Float, out: _Float, num_threads: int) -> None: ...
# out[c] = sum over n, p of gy[n, c, p]

def openmp_enabled() -> bool: ...
def max_threads() -> int: ...
def build_info() -> dict[str, Any]: ...
# build_info() keys include "isa" (the ISA level the multi-versioned row kernels run
# at on this CPU: "avx512", "avx2", "x86-64"), "kernel_isa" (the kernel table's row in
# use: "avx512f", "avx2+fma" or "portable") and "planner" (its thresholds).
def kernels_in_use() -> dict[str, Tuple[str, ...]]: ...
def _set_isa(name: str) -> str: ...  # private (tests): "portable", "avx2" or "avx512"
def _isa() -> str: ...               # private: the row in use

class Runner:
    """A validated call prepared once; returns the result, or None for inputs it
    cannot read in place (the caller then takes the general path)."""
    def __call__(
        self, x: Any, w: Any, bias: Any, num_threads: Any
    ) -> Optional[_Float]: ...

def make_runner(
    transposed: bool,
    dtype: Any,
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    out_shape: Sequence[int],
    stride: Sequence[int],
    pads: Sequence[Tuple[int, int]],
    dilation: Sequence[int],
    groups: int,
    unbatched: bool,
    max_threads: int,
) -> Runner: ...
