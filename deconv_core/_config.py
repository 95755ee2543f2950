"""``show_config()``: what this installation of deconv_core runs on."""
import os
import sys

import numpy as np

from . import _backend
from ._version import __version__

__all__ = ["show_config", "config"]


def config():
    """The configuration as a dict (what :func:`show_config` prints)."""
    info = {
        "deconv_core": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "backend": _backend.backend(),
        "backend_env": os.environ.get(_backend.ENV_VAR, "(unset)"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(unset)"),
        "cpu_count": os.cpu_count(),
    }
    try:
        kernels = _backend.load("compiled")
    except ImportError as exc:
        info["compiled"] = f"not available ({exc})"
        return info
    build = kernels.build_info()
    info["compiled"] = "available"
    info["openmp"] = bool(build.get("openmp"))
    info["default_threads"] = kernels.max_threads()
    for key in ("compiler_flags", "link_flags", "cython_directives", "bounds_checks",
                "march_native", "isa", "kernel_isa", "target_clones", "planner"):
        if key in build:
            info[key] = build[key]
    info["kernels"] = "; ".join(f"{op}: {', '.join(fams)}"
                                for op, fams in kernels.kernels_in_use().items())
    return info


def show_config(file=None):
    """Print the active backend, OpenMP, threads, compiler flags and NumPy version.

    Examples
    --------
    >>> import deconv_core
    >>> deconv_core.show_config()  # doctest: +ELLIPSIS
    deconv_core ...
    backend: ...
    """
    info = config()
    out = file or sys.stdout
    print(f"deconv_core {info.pop('deconv_core')} (python {info.pop('python')}, "
          f"numpy {info.pop('numpy')})", file=out)
    for key, value in info.items():
        print(f"{key}: {value}", file=out)
