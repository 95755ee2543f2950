"""``python -m deconv_core apply``: zarr in, zarr out, equal to the in-memory op; bad
input is a nonzero exit, one line on stderr, and nothing under OUT."""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("dask.array", reason="the dask extra is not installed "
                                         "(pip install 'deconv_core[dask]')")
zarr = pytest.importorskip("zarr", reason="the dask extra is not installed")

import deconv_core  # noqa: E402
from deconv_core.dask.apply import main  # noqa: E402
from conftest import subprocess_env  # noqa: E402

PREFIX = "python -m deconv_core apply: error: "


@pytest.fixture
def files(tmp_path):
    """A (2, 4, 19, 14) float32 zarr array in chunks of (1, 4, 8, 8), a transposed and a
    forward weight, a bias, and OUT's path."""
    rng = np.random.default_rng(7)
    src = zarr.create_array(store=str(tmp_path / "in.zarr"), shape=(2, 4, 19, 14),
                            chunks=(1, 4, 8, 8), dtype="f4")
    src[:] = rng.standard_normal(src.shape).astype(np.float32)
    paths = dict(dir=tmp_path, input=str(tmp_path / "in.zarr"), out=str(tmp_path / "out.zarr"),
                 wt=str(tmp_path / "wt.npy"), wf=str(tmp_path / "wf.npy"),
                 b=str(tmp_path / "b.npy"))
    np.save(paths["wt"], rng.standard_normal((4, 3, 4, 4)).astype(np.float32))
    np.save(paths["wf"], rng.standard_normal((6, 2, 3, 3)).astype(np.float32))
    np.save(paths["b"], rng.standard_normal(6).astype(np.float32))
    return paths


def _nothing_under(out):
    parent, name = os.path.split(out)
    return not os.path.lexists(out) and not glob.glob(os.path.join(parent, f".{name}.partial-*"))


def test_transposed_through_the_module_entry_point(files):
    b3 = np.load(files["b"])[:3]
    np.save(files["b"].replace("b.npy", "b3.npy"), b3)
    proc = subprocess.run(
        [sys.executable, "-m", "deconv_core", "apply", files["input"], files["out"],
         "--weight", files["wt"], "--bias", files["b"].replace("b.npy", "b3.npy"),
         "--transposed", "--stride", "2", "--padding", "1:0,1", "--output-padding", "1",
         "--chunks", "1,4,5,7"],
        capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "100% Completed" in proc.stderr          # the progress bar
    assert proc.stdout.startswith(f"wrote {files['out']}")
    x = zarr.open_array(files["input"], mode="r")[:]
    ref = deconv_core.conv_transpose2d(x, np.load(files["wt"]), b3, stride=2,
                                       padding=((1, 0), (1, 1)), output_padding=1)
    got = zarr.open_array(files["out"], mode="r")
    assert got.chunks == (1, 3, 10, 14)
    np.testing.assert_allclose(got[:], ref, rtol=2e-5, atol=2e-5)


def test_forward_grouped_same(files, capsys):
    assert main([files["input"], files["out"], "--weight", files["wf"], "--bias", files["b"],
                 "--padding", "same", "--stride", "2,1", "--groups", "2",
                 "--scheduler", "sync"]) == 0
    x = zarr.open_array(files["input"], mode="r")[:]
    ref = deconv_core.conv2d(x, np.load(files["wf"]), np.load(files["b"]), stride=(2, 1),
                             padding="same", groups=2)
    np.testing.assert_allclose(zarr.open_array(files["out"], mode="r")[:], ref,
                               rtol=2e-5, atol=2e-5)
    # --overwrite replaces it; without, an existing OUT is an error and stays as it was
    before = sorted(os.listdir(files["out"]))
    capsys.readouterr()
    _fails([files["input"], files["out"], "--weight", files["wf"], "--groups", "2"], capsys,
           "exists", keep=True)
    assert sorted(os.listdir(files["out"])) == before
    assert main([files["input"], files["out"], "--weight", files["wf"], "--groups", "2",
                 "--overwrite", "--quiet"]) == 0
    assert zarr.open_array(files["out"], mode="r").shape == (2, 6, 17, 12)


def _fails(argv, capsys, text, keep=False):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code not in (0, None)
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(PREFIX) and text in err, err
    if not keep:
        assert _nothing_under(argv[1])


@pytest.mark.parametrize("case,text", [
    ("missing input", "no such file or directory"),
    ("weight channels", "weight has shape (6, 2, 3, 3) but input has C_in=4 channels"),
    ("stride syntax", "argument --stride: 'two'"),
    ("stride count", "stride=(2, 2, 2) must be an int or a sequence of 2 ints"),
    ("padding form", "argument --padding: 'full'"),
    ("missing weight", "--weight"),
    ("weight not npy", "not a .npy file"),
    ("output_padding without --transposed", "--transposed"),
    ("group of the input", "not a zarr array"),
    ("scheduler name", "scheduler='thread' must be threads, processes, sync or"),
])
def test_error_paths(files, capsys, case, text):
    base = [files["input"], files["out"], "--weight", files["wf"], "--groups", "2", "--quiet"]
    argv = {
        "missing input": [files["input"] + "-missing", files["out"], "--weight", files["wf"]],
        "weight channels": base + ["--transposed"],   # (6, 2, ...): C_in would be 6
        "stride syntax": base + ["--stride", "two"],
        "stride count": base + ["--stride", "2,2,2"],
        "padding form": base + ["--padding", "full"],
        "missing weight": [files["input"], files["out"], "--weight", files["wf"] + "-missing"],
        "weight not npy": [files["input"], files["out"], "--weight", files["input"] + "/zarr.json"],
        "output_padding without --transposed": base + ["--output-padding", "1"],
        "group of the input": [files["input"].replace("in.zarr", "grp.zarr"), files["out"],
                               "--weight", files["wf"]],
        "scheduler name": base + ["--scheduler", "thread"],
    }[case]
    zarr.open_group(files["input"].replace("in.zarr", "grp.zarr"), mode="w")
    _fails(argv, capsys, text)


def test_failure_while_computing_leaves_nothing(files, capsys, monkeypatch):
    """A chunk that cannot be decoded fails the computation after OUT's temporary
    sibling was created: it is removed."""
    from deconv_core.dask import apply
    removed = []
    real_rmtree = apply.shutil.rmtree

    def rmtree(path, *args, **kwargs):
        removed.append((os.path.basename(path), os.path.isdir(path)))
        return real_rmtree(path, *args, **kwargs)
    monkeypatch.setattr(apply.shutil, "rmtree", rmtree)
    chunk_files = sorted(p for p in glob.glob(os.path.join(files["input"], "c", "**"),
                                              recursive=True) if os.path.isfile(p))
    with open(chunk_files[-1], "wb") as fh:
        fh.write(b"not a zstd frame" * 4)
    _fails([files["input"], files["out"], "--weight", files["wf"], "--groups", "2", "--quiet"],
           capsys, "nothing written to")
    assert len(removed) == 1 and removed[0][0].startswith(".out.zarr.partial-") and removed[0][1]


def test_error_through_the_module_entry_point(files):
    proc = subprocess.run(
        [sys.executable, "-m", "deconv_core", "apply", files["input"], files["out"],
         "--weight", files["wt"]],
        capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(PREFIX), proc.stderr
    assert "weight has shape (4, 3, 4, 4)" in proc.stderr
    assert _nothing_under(files["out"])


def test_one_padding_pair_is_every_dim(files):
    import doctest
    from deconv_core import _cli_args
    assert doctest.testmod(_cli_args).failed == 0
    assert main([files["input"], files["out"], "--weight", files["wf"], "--groups", "2",
                 "--padding", "2:0", "--scheduler", "sync", "--quiet"]) == 0
    x = zarr.open_array(files["input"], mode="r")[:]
    ref = deconv_core.conv2d(x, np.load(files["wf"]), padding=((2, 0), (2, 0)), groups=2)
    np.testing.assert_allclose(zarr.open_array(files["out"], mode="r")[:], ref,
                               rtol=2e-5, atol=2e-5)
