"""The docstring examples run, and the command line's main job works."""
import doctest
import os
import subprocess
import sys

import pytest

import deconv_core
from deconv_core import _backend, _config, api, sizes
from deconv_core.lesson import steps as lesson_steps
from conftest import subprocess_env


@pytest.mark.parametrize("module", [api, lesson_steps, sizes, _backend, _config],
                         ids=lambda m: m.__name__)
def test_docstring_examples(backend, module):
    # The functions generated in api.py carry their docstring examples themselves.
    finder = doctest.DocTestFinder()
    tests = []
    for name in getattr(module, "__all__", []):
        tests += finder.find(getattr(module, name), name, globs={})
    runner = doctest.DocTestRunner()
    for t in tests:
        runner.run(t)
    assert runner.summarize(verbose=False).failed == 0
    assert sum(t.examples != [] for t in tests) >= 1


def test_main_job_prints_lesson_and_timing():
    env = subprocess_env()
    proc = subprocess.run([sys.executable, "-m", "deconv_core", "--repeat", "3"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Step 1" in out and "Step 3" in out and "Result" in out
    assert "backend" in out and "ms" in out
    # The lesson's stride 2, padding 1 result for input 1..9 and kernel [[1, 2], [3, 4]].
    assert "4 x 4" in out


def test_readme_usage_example_runs(backend):
    """The README's Python example is executed as written."""
    import re
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    readme = os.path.join(root, "README.md")
    if not os.path.exists(readme):
        pytest.skip("README.md not beside the tests (installed package run)")
    blocks = re.findall(r"```python\n(.*?)```", open(readme).read(), re.S)
    assert blocks, "README has no python example"
    ns = {}
    exec(compile(blocks[0], "README.md", "exec"), ns)
    assert ns["y"].shape == (8, 32, 65, 65)
    assert ns["back"].shape == (8, 64, 32, 32)
    assert ns["s"].result.shape == (4, 4)


def test_show_config_reports_backend_and_openmp(backend, capsys):
    deconv_core.show_config()
    text = capsys.readouterr().out
    assert f"backend: {backend}" in text
    assert f"numpy {__import__('numpy').__version__}" in text
    if backend == "compiled":
        assert "openmp: " in text and "compiler_flags: " in text and "default_threads: " in text
        assert "isa: " in text and "kernel_isa: " in text
        from deconv_core import _kernels
        for op, families in _kernels.kernels_in_use().items():
            assert f"{op}: {', '.join(families)}" in text
