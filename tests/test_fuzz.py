"""Bad input never crashes: the fuzz runs in a subprocess, so a segfault fails here."""
import os
import re
import subprocess
import sys

import pytest
from conftest import subprocess_env

HERE = os.path.dirname(os.path.abspath(__file__))
N_EXAMPLES = int(os.environ.get("DECONV_CORE_FUZZ_EXAMPLES", "1500"))


def test_fuzz_every_public_function(backend):
    env = subprocess_env(DECONV_CORE_BACKEND=backend)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "fuzz_runner.py"),
                           str(N_EXAMPLES), "20261125"],
                          capture_output=True, text=True, env=env, timeout=1800, cwd=HERE)
    assert proc.returncode == 0, (
        f"fuzz process exited with {proc.returncode} (negative = killed by a signal)\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    match = re.search(r"fuzz: (\d+) cases, (\d+) expected errors, backend (\w+)", proc.stdout)
    assert match, proc.stdout
    cases, errors, used = int(match[1]), int(match[2]), match[3]
    assert used == backend
    assert cases >= N_EXAMPLES
    assert 0 < errors < cases  # both valid and invalid calls were generated
    print(match[0])
