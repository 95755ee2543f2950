"""``python -m deconv_core explain``: the text grids against the lesson's arithmetic.

Every expected array here is built by hand from the lesson's four steps (insert
stride - 1 zeros, add a kernel - 1 border, remove padding, convolve with the kernel
rotated by 180 degrees), not with deconv_core.  No matplotlib needed.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from deconv_core.lesson import cli, text

IMAGE = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
KERNEL = [[1, 2], [3, 4]]
INS, BRD = text.MARKS[text.INSERTED], text.MARKS[text.BORDER]


def run(capsys, *argv):
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def grid(text, title):
    """The cells of the grid printed under the line starting with ``title``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        cells = line.translate({ord(ch): " " for ch in "\u2502\u250c\u2510\u2514\u2518\u2500"})
        if cells.strip():
            rows.append(cells.split())
    return rows


def lesson_by_hand(stride, padding):
    """Steps 1-3 as marked cells (ints, INS, BRD) and the Result, by the lesson's rules."""
    n, k = 3, 2
    size1 = (n - 1) * stride + 1
    step1 = [[INS] * size1 for _ in range(size1)]
    for i in range(n):
        for j in range(n):
            step1[i * stride][j * stride] = IMAGE[i][j]
    size2 = size1 + 2 * (k - 1)
    step2 = [[BRD] * size2 for _ in range(size2)]
    for i in range(size1):
        for j in range(size1):
            step2[i + k - 1][j + k - 1] = step1[i][j]
    step3 = [row[padding:size2 - padding] for row in step2[padding:size2 - padding]]
    rotated = [[KERNEL[k - 1 - i][k - 1 - j] for j in range(k)] for i in range(k)]
    val = [[v if isinstance(v, int) else 0 for v in row] for row in step3]
    out = len(step3) - (k - 1)
    result = [[sum(val[r + i][c + j] * rotated[i][j] for i in range(k) for j in range(k))
               for c in range(out)] for r in range(out)]
    return step1, step2, step3, rotated, result


def cells(rows):
    return [[str(v) for v in row] for row in rows]


@pytest.mark.parametrize("stride,padding,size", [(1, 0, 4), (2, 0, 6), (2, 1, 4)])
def test_lesson_examples_grids(backend, capsys, stride, padding, size):
    out = run(capsys, "--stride", str(stride), "--padding", str(padding))
    step1, step2, step3, rotated, result = lesson_by_hand(stride, padding)
    assert grid(out, "Input") == cells(IMAGE)
    assert grid(out, "Kernel (") == cells(KERNEL)
    assert grid(out, "Step 1") == cells(step1)
    assert grid(out, "Step 2") == cells(step2)
    assert grid(out, "Step 3 (") == cells(step3)
    assert grid(out, "Kernel rotated") == cells(rotated) == [["4", "3"], ["2", "1"]]
    assert grid(out, "Result") == cells(result)
    assert len(result) == size
    # The framed Step 2 keeps exactly the Step 3 cells.
    framed = out.splitlines()
    i = next(n for n, line in enumerate(framed) if "the frame shows what stays" in line)
    assert grid(out, framed[i]) == cells(step2)
    # Output size arithmetic and the round trip back to 3 x 3.
    assert f"(3 - 1)*{stride} - {padding} - {padding} + 1*(2 - 1) + 0 + 1 = {size}" in out
    assert f"({size} + {padding} + {padding} - 1*(2 - 1) - 1) // {stride} + 1 = 3" in out
    assert "-> 3 x 3, the input's size 3 x 3: yes" in out
    assert "conv_transpose2d with the same arguments: yes" in out


def test_default_is_the_lesson_stride2_padding1(capsys):
    out = run(capsys)
    assert "stride 2, padding 1" in out
    # By hand: the 2x2 window of Step 3 (= Step 1 here) times [[4, 3], [2, 1]].
    assert grid(out, "Result") == cells([[4, 6, 8, 9], [8, 5, 10, 6],
                                         [16, 15, 20, 18], [14, 8, 16, 9]])
    assert "removed from Step 2: row 0, row 6, col 0, col 6" in out
    assert "1*4 + 0*3 + 0*2 + 0*1 = 4" in out
    # Inserted and border zeros are marked; a legend says which is which.
    assert f"{INS} = zero inserted in Step 1" in out and f"{BRD} = border zero" in out


def test_real_zeros_print_as_zeros(capsys):
    out = run(capsys, "--input", "0,1;2,0", "--kernel", "1", "--padding", "0")
    assert grid(out, "Step 1") == [["0", INS, "1"], [INS, INS, INS], ["2", INS, "0"]]


def test_values_and_shapes_parse():
    np.testing.assert_array_equal(cli.parse_array("2x3", (2,)), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(cli.parse_array("1, 2; 3 4", (2,)), [[1, 2], [3, 4]])
    assert cli.parse_array("1,2;3,4|5,6;7,8", (2, 3)).shape == (2, 2, 2)
    assert cli.parse_array("2x2x1x1", (4,)).ravel().tolist() == [1, 2, 3, 4]


def test_output_padding_dilation_and_pairs(backend, capsys):
    out = run(capsys, "--input", "2x3", "--kernel", "3x2", "--stride", "2,3", "--padding",
              "1:0,2:1", "--output-padding", "1", "--dilation", "2")
    # H: (2-1)*2 - 1 - 0 + 2*(3-1) + 1 + 1 = 7; W: (3-1)*3 - 2 - 1 + 2*(2-1) + 1 + 1 = 7.
    assert "H: (2 - 1)*2 - 1 - 0 + 2*(3 - 1) + 1 + 1 = 7" in out
    assert "W: (3 - 1)*3 - 2 - 1 + 2*(2 - 1) + 1 + 1 = 7" in out
    step3 = grid(out, "Step 3 (")
    assert len(step3) == 11 and len(step3[0]) == 9
    plus = text.MARKS[text.EXTRA]
    assert step3[-1] == [plus] * 9 and all(row[-1] == plus for row in step3)
    assert "removed from Step 2: row 0, cols 0..1, col 10" in out
    assert "the input's size 2 x 3: yes" in out


def test_multichannel_sums_the_filter_group(backend, capsys):
    out = run(capsys, "--input", "1,2;3,4|5,6;7,8", "--kernel", "1,0;0,1", "--stride", "1",
              "--padding", "0")
    # Each channel convolved with [[1, 0], [0, 1]] (its own rotation), summed by hand.
    chans = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    by_hand = [[sum(ch[r][c] if r < 2 and c < 2 else 0 for ch in chans)
                + sum(ch[r - 1][c - 1] if 0 < r and 0 < c else 0 for ch in chans)
                for c in range(3)] for r in range(3)]
    assert grid(out, "Result channel 0") == cells(by_hand)
    assert grid(out, "Step 3 of channel 1 convolved") == cells(
        [[5, 6, 0], [7, 13, 6], [0, 7, 8]])


@pytest.mark.parametrize("argv,option", [
    (["--stride", "0"], "--stride"),
    (["--input", "3x"], "--input"),
    (["--kernel", "1,2;3"], "--kernel"),
    (["--padding", "5"], "--padding"),
    (["--padding", "-1"], "--padding"),
    (["--output-padding", "2"], "--output-padding"),
    (["--dilation", "x"], "--dilation"),
    (["--position", "9,9"], "--position"),
])
def test_argument_errors_name_the_option(capsys, argv, option):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    assert f"argument {option}" in capsys.readouterr().err


def test_missing_matplotlib_says_how_to_install(monkeypatch, capsys, tmp_path):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit) as e:
        cli.main(["--plot", str(tmp_path / "x.png")])
    assert e.value.code == 1
    assert "pip install deconv_core[plot]" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_cli_subcommand_and_no_matplotlib_on_import():
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "deconv_core", "explain", "--stride", "1",
                           "--padding", "0"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Result: stride-1 convolution" in proc.stdout
    code = ("import sys, deconv_core, deconv_core.lesson.text, deconv_core.lesson.cli; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
