"""Type stubs of the compiled extension deconv_core._kernels (see src_c/_kernels.pyx)."""
from typing import Any, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

_Float = npt.NDArray[np.floating[Any]]

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
    _path: int = ...,  # private: 0 planner, 1 direct, 2 gemm, 3 blocked, 4 depthwise,
                       # 5 channels-last, 6 virtual channels, 7 folded channels-last
) -> None: ...
conv = conv_transpose  # same signature; weight layout (C_out, C_in/groups, *k)

def openmp_enabled() -> bool: ...
def max_threads() -> int: ...
def build_info() -> dict[str, Any]: ...
# build_info() keys include "isa" (the ISA level the multi-versioned row kernels run
# at on this CPU: "avx512", "avx2", "x86-64") and "blocked_kernels" (the ISA of the
# register-blocked and depthwise kernels: "avx512f", "avx2+fma", or None without AVX2).
def _set_blocked_isa(name: str) -> str: ...  # private (tests)

class Planned:
    """A validated call planned once; returns the result, or None for inputs it
    cannot read in place (the caller then takes the general path)."""
    def __call__(
        self, x: Any, w: Any, bias: Any, num_threads: Any
    ) -> Optional[_Float]: ...

def plan_call(
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
) -> Planned: ...
