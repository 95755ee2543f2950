"""The optional parts stay optional: ``import deconv_core`` (and a call) imports none of
the frameworks; each front end imports its own and nothing else's."""
import subprocess
import sys

import pytest

from conftest import subprocess_env

FRAMEWORKS = ("torch", "jax", "jaxlib", "dask", "distributed", "zarr", "matplotlib")


def _imported_after(code):
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(m for m in "
         f"{FRAMEWORKS!r} if m in sys.modules)))"],
        env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def test_import_deconv_core_imports_no_framework():
    assert _imported_after(
        "import numpy as np, deconv_core as dc\n"
        "dc.conv_transpose2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))\n"
        "dc.conv2d_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))"
    ) == []


@pytest.mark.parametrize("front,needs", [("deconv_core.torch", "torch"),
                                         ("deconv_core.jax", "jax")])
def test_each_front_end_imports_only_its_framework(front, needs):
    pytest.importorskip(needs, reason=f"the {needs} extra is not installed")
    got = _imported_after(f"import {front}")
    assert needs in got
    others = {"torch", "jax", "dask"} - {needs}
    assert not others & set(got), got
