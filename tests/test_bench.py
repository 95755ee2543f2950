"""The benchmark harness (deconv_core.bench), run in-process with --quick on small workloads."""
import contextlib
import json
import os
import sys

import numpy as np
import pytest

from deconv_core import bench
from deconv_core.bench import cli, contenders, timing
from deconv_core.workloads import workload_flops

SEED = "seed_3x3_k2_s2_p1"
SMALL = "s3_k3_p2_16ch_b4"
FAST = ["--quick", "--repeat", "2", "--warmup", "1", "--min-sample-ms", "2",
        "--gemm-size", "64", "--settle-ms", "1", "--rewarm-ms", "1"]


@pytest.fixture
def torch_threads():
    """Restore PyTorch's thread settings the harness changes."""
    torch = pytest.importorskip("torch")
    saved = torch.get_num_threads()
    yield torch
    torch.set_num_threads(saved)


def _run(tmp_path, *args):
    out = tmp_path / "out"
    rc = bench.main([*FAST, "--out", str(out), *args])
    doc = json.loads((out / "results.json").read_text())
    return rc, doc, out


def test_quick_run_writes_json_markdown_and_reports_skipped_peer(tmp_path, torch_threads,
                                                                 monkeypatch, capsys):
    # onnxruntime "not installed": importing it fails; jax is simply not requested.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    rc, doc, out = _run(tmp_path, "--workloads", f"{SEED},{SMALL}",
                        "--peers", "torch,onnxruntime")
    printed = capsys.readouterr().out
    assert rc == 0
    assert {"machine", "settings", "contenders", "gemm", "workloads", "geomean_ratio",
            "failures", "elapsed_s"} <= doc.keys()
    for key in ("cpu_model", "cpu_count", "numpy", "deconv_core_backend", "date"):
        assert key in doc["machine"]
    assert doc["settings"]["threads"] == 2
    assert doc["contenders"]["torch"]["status"] == "ok"
    assert doc["contenders"]["torch"]["num_threads"] == 2
    ort = doc["contenders"]["onnxruntime"]
    assert ort["status"] == "skipped" and "not installed" in ort["reason"]
    assert doc["contenders"]["jax"]["status"] == "skipped"
    assert "onnxruntime: skipped (not installed" in printed
    assert set(doc["gemm"]) == {"float32", "float64"} and doc["gemm"]["float32"]["gflops"] > 0

    assert [w["name"] for w in doc["workloads"]] == [SEED, SMALL]
    for w in doc["workloads"]:
        torch_c = w["contenders"]["torch"]
        assert torch_c["check"] == "ok" and torch_c["max_abs_err"] <= w["tolerance"]
        assert len(torch_c["times_s"]) == 2 and torch_c["median_s"] > 0
        # the inner loop was scaled up for the tiny seed (a call of microseconds cannot
        # fill a sample alone; no bound on times: the machine may be loaded)
        if w["name"] == SEED:
            assert torch_c["inner"] > 1
        assert w["contenders"]["onnxruntime"]["status"] == "skipped"
        assert w["fastest_peer"] == "torch"
        assert w["ratio"] == pytest.approx(
            torch_c["median_s"] / w["contenders"][contenders.DC if w["deconv_core_backend"] ==
                                                  "compiled" else contenders.DC_NUMPY]["median_s"])
        assert w["peak_fraction"] is not None and not w["failures"]

    md = (out / "results.md").read_text()
    assert "| workload |" in md and "fastest peer" in md and "ratio" in md
    assert f"| {SEED} |" in md and f"| {SMALL} |" in md
    assert "geometric mean" in md and "onnxruntime: skipped" in md
    assert SEED in printed and "geometric mean" in printed
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not (out / "ratios.png").exists()
    else:
        assert (out / "ratios.png").stat().st_size > 0


@pytest.mark.parametrize("op", ["conv", "backward"])
def test_other_ops_are_checked_and_timed_against_torch(tmp_path, torch_threads, op):
    """--op conv: the forward convolution on the adjoint shape; --op backward: all three
    gradients against torch's convolution_backward, and grad_weight alone."""
    rc, doc, out = _run(tmp_path, "--op", op, "--workloads", f"{SEED},{SMALL}",
                        "--peers", "torch", "--no-chart")
    assert rc == 0 and doc["settings"]["op"] == op
    dc = contenders.DC if doc["machine"]["deconv_core_backend"] == "compiled" \
        else contenders.DC_NUMPY
    for w in doc["workloads"]:
        cs = w["contenders"]
        assert cs["torch"]["check"] == "ok" and cs[dc]["check"] == "ok"
        assert w["fastest_peer"] == "torch" and w["ratio"] > 0
        if op == "backward":
            assert len(w["tolerances"]) == 3
            assert w["flops"] == 2 * workload_flops(w["spec"])   # grad_input + grad_weight
            if dc == contenders.DC:
                assert cs[contenders.DC_GW]["check"] == "ok"
                assert w["gw_peak_fraction"] is not None
    md = (out / "results.md").read_text()
    assert ("gw % peak" in md) == (op == "backward")
    assert ("ort ms" in md) == (op != "backward")


def test_wrong_contender_fails_loudly(tmp_path, monkeypatch, capsys):
    from deconv_core import conv_transpose2d

    def wrong(spec, op, a, threads):
        kw = contenders.conv_kwargs(spec)
        return lambda: conv_transpose2d(a["x"], a["w"], **kw) * np.float32(1.01)

    monkeypatch.setitem(contenders.EXTRA_CONTENDERS, "wrong", wrong)
    rc, doc, out = _run(tmp_path, "--workloads", SEED, "--peers", "none", "--no-chart")
    assert rc == 1
    assert doc["failures"] == {SEED: ["wrong"]}
    c = doc["workloads"][0]["contenders"]
    assert c["wrong"]["check"] == "FAIL" and c[contenders.DC_NUMPY]["check"] == "ok"
    assert "DISAGREES" in capsys.readouterr().out
    assert "FAIL" in (out / "results.md").read_text()
    # --no-check reports the disagreement but does not fail the run
    rc, doc, _ = _run(tmp_path, "--workloads", SEED, "--peers", "none", "--no-chart",
                      "--no-check")
    assert rc == 0 and doc["failures"] == {SEED: ["wrong"]}


def test_scaling_times_one_thread_twins_in_the_same_rounds(tmp_path, monkeypatch):
    seen = []

    def spy(spec, op, a, threads):   # what each twin is set up with, and its pools
        seen.append(threads)
        return contenders.setup_deconv(spec, op, a, threads)

    monkeypatch.setitem(contenders.CONTENDERS, contenders.DC_NUMPY,
                        (contenders.load_deconv("numpy"), spy, "numpy"))
    rc, doc, out = _run(tmp_path, "--workloads", SEED, "--peers", "none", "--no-chart",
                        "--scaling", "--repeat", "3")
    assert rc == 0
    sc = doc["scaling"]
    assert sc["threads"] == [1, 2] and sc["speedup"][SEED][contenders.DC_NUMPY] > 0
    assert sorted(seen) == [1, 2]
    cs = doc["workloads"][0]["contenders"]
    twin = cs[contenders.DC_NUMPY + contenders.ONE]
    assert twin["check"] == "ok" and len(twin["times_s"]) == len(cs[contenders.DC_NUMPY]["times_s"])
    assert sc["speedup"][SEED][contenders.DC_NUMPY] == pytest.approx(
        twin["median_s"] / cs[contenders.DC_NUMPY]["median_s"])
    assert "jax" in sc["not_measured"]
    assert "Speed-up from 1 to 2 threads" in (out / "results.md").read_text()


def test_one_thread_context_limits_the_pools():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with cli.one_thread(contextlib.nullcontext(), contenders.DC):
        nums = [p["num_threads"] for p in threadpoolctl.threadpool_info()]
    assert nums and all(n == 1 for n in nums)


PEER_MODULES = {"torch": "torch", "onnxruntime": "onnxruntime", "jax": "jax",
                "openvino": "openvino", "tensorflow": "tensorflow"}


@pytest.mark.parametrize("op", ["transposed", "conv", "backward"])
@pytest.mark.parametrize("peer", list(PEER_MODULES))
def test_peer_formulations_match_reference(peer, op, monkeypatch):
    """Each peer's call of each op, on settings the workloads do not cover (dilation,
    output_padding, groups, 1-D and 3-D), agrees with the reference, or says it cannot
    run them (a peer without training ops, TensorFlow's groups)."""
    pytest.importorskip(PEER_MODULES[peer])
    if peer == "onnxruntime":
        pytest.importorskip("onnx")
    for k in contenders.JAX_ENV:
        monkeypatch.delenv(k, raising=False)   # _load_jax sets them; restored afterwards
    load, setup, _ = contenders.CONTENDERS[peer]
    saved = None
    if peer == "torch":
        import torch
        saved = torch.get_num_threads()
    try:
        load(1)
        base = dict(N=2, Cin=4, Cout=6, kernel=3, stride=2, padding=1, groups=2, dilation=2,
                    output_padding=1, dtype="float32")
        ran = 0
        for size, groups in (([7], 2), ([5, 6], 2), ([3, 4, 5], 2), ([5, 6], 1), ([7], 1),
                             ([3, 4, 5], 1)):
            spec = dict(base, size=size, groups=groups)
            if peer == "tensorflow":   # TensorFlow's CPU ops take no dilation with stride
                spec.update(dilation=1, output_padding=0)
            arrays = cli.inputs(spec, op, 3)
            ref = cli.reference(spec, op, arrays)
            try:
                call = setup(spec, op, arrays, 1)
            except contenders.Unsupported:
                continue
            got = contenders.to_numpy(call, call())
            for g, r in zip(got if op == "backward" else (got,),
                            ref if op == "backward" else (ref,)):
                assert g.shape == r.shape
                np.testing.assert_allclose(g, r, atol=1e-3, rtol=1e-4,
                                           err_msg=f"{peer} {op} {size} groups {groups}")
            ran += 1
        assert ran or op == "backward" and peer in ("onnxruntime", "openvino")
    finally:
        if saved is not None:
            torch.set_num_threads(saved)


def test_onnxruntime_float64_is_reported_unsupported():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    spec = dict(N=1, Cin=2, Cout=2, size=[4, 4], kernel=2, stride=2, padding=0, groups=1,
                dilation=1, output_padding=0, dtype="float64")
    arrays = cli.inputs(spec, "transposed", 0)
    with pytest.raises(contenders.Unsupported, match="float64"):
        contenders.setup_onnxruntime(spec, "transposed", arrays, 1)


@pytest.mark.parametrize("args, message", [
    (["--workloads", "nope"], "unknown workload"),
    (["--peers", "caffe"], "unknown caffe"),
    (["--op", "forward"], "invalid choice: 'forward'"),
    (["--threads", "0"], "must be >= 1"),
    (["--settle-ms", "-1"], "--settle-ms=-1.0 must be >= 0"),
    (["--rewarm-ms", "-2"], "--rewarm-ms=-2.0 must be >= 0"),
    (["--warmup", "-1"], "--warmup=-1 must be >= 0"),
])
def test_bad_arguments(tmp_path, args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main([*args, "--out", str(tmp_path)])
    assert message in str(exc.value) + capsys.readouterr().err
    assert not os.path.exists(tmp_path / "results.json")


def test_rewarm_runs_untimed_calls_between_settle_and_sample(monkeypatch):
    """Each timed sample is preceded by the settle sleep, then by untimed calls of the
    same contender lasting at least --rewarm-ms; rewarm 0 makes none."""
    events = []
    monkeypatch.setattr(timing.time, "sleep", lambda s: events.append("sleep"))
    real_sample = timing.sample

    def sample(call, ctx, inner):
        events.append("sample")
        return real_sample(call, ctx, inner)

    monkeypatch.setattr(timing, "sample", sample)

    def call():
        events.append("call")
        timing.time.perf_counter()

    for rewarm in (0.0, 0.004):
        events.clear()
        timing.time_interleaved({"a": (call, contextlib.nullcontext)}, repeat=3, warmup=0,
                               min_sample=0.0, settle=0.05, rewarm=rewarm)
        rounds = "".join("s" if e == "sleep" else "S" if e == "sample" else "c"
                         for e in events).split("s")[1:]
        assert len(rounds) == 3
        for r in rounds:  # untimed calls, then the timed sample and its calls
            untimed = r.index("S")
            assert (untimed == 0) if rewarm == 0 else (untimed >= 1)
            assert r[untimed + 1:] and set(r[untimed + 1:]) == {"c"}
