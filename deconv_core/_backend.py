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


@contextlib.contextmanager
def _short_openmp_spin():
    """While the extension loads, GOMP_SPINCOUNT=10000 unless the user set a wait policy.

    libgomp reads it once, when it loads (the wheel's own copy loads with the
    extension). By default its idle threads spin for ~300000 iterations (milliseconds)
    after each parallel region; in a process where another runtime computes next (torch's
    own libgomp, between two deconv_core layers of a model) they would take a core from
    it for that long. 10000 iterations keep the kernels' back-to-back regions warm. The
    variable is removed again, so that a runtime loaded later sees the user's settings.
    """
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        yield
        return
    os.environ["GOMP_SPINCOUNT"] = "10000"
    try:
        yield
    finally:
        os.environ.pop("GOMP_SPINCOUNT", None)


def load(name):
    """The backend module for ``name`` ("compiled" or "numpy")."""
    if name == "numpy":
        return _numpy_backend
    if name == "compiled":
        try:
            with _short_openmp_spin():
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
