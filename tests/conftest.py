"""Shared fixtures: which backend(s) the suite exercises, said out loud.

``DECONV_CORE_BACKEND=compiled`` or ``=numpy`` restricts the suite to that backend
(and ``compiled`` fails at import if the extension is missing: a silent
fallback must not pass). Unset, every importable backend is exercised.
"""
import collections
import contextlib
import os

import numpy as np
import pytest

import deconv_core
from deconv_core import _backend

_counts = collections.Counter()


def _selected():
    env = os.environ.get("DECONV_CORE_BACKEND", "").strip().lower()
    if env in ("numpy", "compiled"):
        return [env]
    return _backend.loadable()


BACKENDS = _selected()


def pytest_report_header(config):
    return (f"deconv_core {deconv_core.__version__} from {os.path.dirname(deconv_core.__file__)}; "
            f"default backend: {deconv_core.backend()}; backends under test: "
            f"{', '.join(BACKENDS)}")


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test with this backend active; yields its name."""
    with _backend.using(request.param):
        _counts[request.param] += 1
        yield request.param


def pytest_terminal_summary(terminalreporter):
    if _counts:
        terminalreporter.write_line(
            "deconv_core backends exercised: "
            + ", ".join(f"{k} ({v} tests)" for k, v in sorted(_counts.items())))


def pytest_sessionfinish(session, exitstatus):
    # A run that asked for the compiled backend but never ran a test on it failed.
    env = os.environ.get("DECONV_CORE_BACKEND", "").strip().lower()
    if env == "compiled" and session.testscollected and not _counts.get("compiled"):
        session.exitstatus = 1


@contextlib.contextmanager
def kernel_isa(name):
    """The compiled kernels on the kernel table's ISA row ``name`` ("portable", "avx2",
    "avx512"; it must be one this CPU has), then on the row they had before."""
    from deconv_core import _kernels
    saved = _kernels._isa()
    assert _kernels._set_isa(name) == name, f"this CPU has no {name} row"
    try:
        yield name
    finally:
        _kernels._set_isa(saved)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def subprocess_env(**extra):
    """Environment for a child Python that imports the same deconv_core as this run."""
    import os as _os
    root = _os.path.dirname(_os.path.dirname(_os.path.abspath(deconv_core.__file__)))
    path = _os.environ.get("PYTHONPATH")
    env = dict(_os.environ, PYTHONPATH=root + (_os.pathsep + path if path else ""))
    env.update(extra)
    return env
