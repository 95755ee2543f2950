"""``import deconv_core`` stays light: NumPy only, nothing heavy pulled in."""
import subprocess
import sys
from conftest import subprocess_env

HEAVY = ("torch", "scipy", "matplotlib", "jax", "onnx", "onnxruntime", "PIL", "hypothesis",
         "threadpoolctl",
         # stdlib, but ~6 ms: the NumPy backend's thread pool imports it when first used
         "concurrent.futures", "logging")


def test_import_pulls_in_nothing_heavy():
    code = ("import sys, deconv_core; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=subprocess_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout
