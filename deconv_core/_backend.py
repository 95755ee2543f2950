"""Backend choice, in one place.

``DECONV_CORE_BACKEND`` (read once, at import):

* unset or ``auto``: the compiled kernels when importable, else NumPy, silently;
* ``numpy``: always the NumPy backend;
* ``compiled``: the compiled kernels, and an ImportError saying how to build
  them when they are missing.
"""
import contextlib
import os

from . import _numpy_backend

__all__ = ["backend", "active", "using", "load"]

ENV_VAR = "DECONV_CORE_BACKEND"
_BUILD_HINT = ("build it with `pip install .` from a source checkout (a C compiler, Cython>=3 "
               "and numpy>=2 are needed at build time; DECONV_CORE_BUILD_EXT=1 makes a failed "
               "build an error instead of a warning), or unset DECONV_CORE_BACKEND to use the "
               "NumPy backend")


def load(name):
    """The backend module for ``name`` ("compiled" or "numpy")."""
    if name == "numpy":
        return _numpy_backend
    if name == "compiled":
        try:
            from . import _kernels
        except ImportError as exc:
            raise ImportError(f"deconv_core: the compiled backend (deconv_core._kernels) is not "
                              f"importable ({exc}); {_BUILD_HINT}") from exc
        return _kernels
    raise ValueError(f"deconv_core: backend {name!r} must be 'compiled' or 'numpy'")


def loadable():
    """The backend names that load here, compiled first (for tools comparing both)."""
    names = []
    for name in ("compiled", "numpy"):
        try:
            load(name)
        except ImportError:
            continue
        names.append(name)
    return names


def _initial():
    choice = os.environ.get(ENV_VAR, "").strip().lower() or "auto"
    if choice == "auto":
        try:
            return "compiled", load("compiled")
        except ImportError:
            return "numpy", _numpy_backend
    if choice not in ("numpy", "compiled"):
        raise ImportError(f"deconv_core: {ENV_VAR}={os.environ[ENV_VAR]!r} must be "
                          f"'auto', 'numpy' or 'compiled'")
    return choice, load(choice)


_name, _impl = _initial()


def backend():
    """The active backend's name: ``"compiled"`` or ``"numpy"``.

    Examples
    --------
    >>> import deconv_core
    >>> deconv_core.backend() in ("compiled", "numpy")
    True
    """
    return _name


def active():
    """The active backend module (``conv_transpose``, ``conv``, ``max_threads``)."""
    return _impl


@contextlib.contextmanager
def using(name):
    """Temporarily switch the process-wide backend (benchmarks and tests).

    Not thread-safe: it changes a global for the duration of the block.
    """
    global _name, _impl
    saved = _name, _impl
    _name, _impl = name, load(name)
    try:
        yield _impl
    finally:
        _name, _impl = saved
