"""deconv_core.lesson.pictures: figures and GIFs drawn with Agg, opened again with Pillow."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from deconv_core.lesson import cli, pictures  # noqa: E402

IMAGE = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
KERNEL = np.array([[1.0, 2.0], [3.0, 4.0]])


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


@pytest.mark.parametrize("stride,padding,out", [(1, 0, 4), (2, 0, 6), (2, 1, 4)])
def test_lesson_figure_png(backend, tmp_path, stride, padding, out):
    path = tmp_path / "steps.png"
    fig = pictures.plot_steps(IMAGE, KERNEL, stride, padding, path=path)
    # Input, kernel, rotated kernel, and the lesson's four panels.
    assert len(fig.axes) == 7
    t = titles(fig)
    for want in ("Input", "Kernel (", "Kernel rotated", "Step 1", "Step 2", "Step 3",
                 "Result"):
        assert sum(title.startswith(want) for title in t) == 1, (want, t)
    assert f"Result ({out}\u00d7{out})" in t[-1]
    with Image.open(path) as im:
        assert im.format == "PNG"
        w, h = im.size
        assert 400 < w < 2000 and 200 < h < 1500


def test_figure_marks_window_and_output_pixel(backend):
    fig = pictures.plot_steps(IMAGE, KERNEL, 2, 1, position=(1, 2))
    ax3, result = fig.axes[5], fig.axes[6]
    # The window's tap labels show the rotated kernel [[4, 3], [2, 1]].
    taps = [t.get_text() for t in ax3.texts if t.get_text().startswith("\u00d7")]
    assert taps == ["\u00d74", "\u00d73", "\u00d72", "\u00d71"]
    picked = [p for p in result.patches if p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
    assert [p.get_xy() for p in picked] == [(2, 1)]
    # Result[1, 2] = Step 3 rows 1..2, cols 2..3 = [[0, 0], [5, 0]] times [[4, 3], [2, 1]].
    texts = [t.get_text() for t in fig.texts]
    assert any(s.startswith("Result[1, 2] = ") and s.endswith("= 10") for s in texts)


def test_gif_has_one_frame_per_output_pixel(backend, tmp_path):
    gif = tmp_path / "steps.gif"
    pictures.plot_steps(IMAGE, KERNEL, 2, 1, animate=gif)
    with Image.open(gif) as im:
        assert im.format == "GIF"
        assert im.n_frames == 16
        assert im.info.get("loop") == 0


def test_multichannel_figure_and_gif(backend, tmp_path):
    img = np.stack([IMAGE, IMAGE[::-1]])
    w = np.arange(1, 17, dtype=np.float64).reshape(2, 2, 2, 2)     # C_in=2, C_out=2
    fig = pictures.plot_steps(img, w, 2, 1, path=tmp_path / "mc.png",
                              animate=tmp_path / "mc.gif")
    # Per input channel: input, steps 1-3, and per output channel its kernel and
    # its contribution; then one panel per output channel with the sum.
    assert len(fig.axes) == 2 * (4 + 2 * 2) + 2
    assert sum(t.startswith("Result channel") for t in titles(fig)) == 2
    with Image.open(tmp_path / "mc.gif") as im:
        assert im.n_frames == 16
    Image.open(tmp_path / "mc.png").verify()


def test_conv_figure(backend, tmp_path):
    fig = pictures.plot_conv(np.arange(1, 26.0).reshape(5, 5), np.ones((3, 3)), 3, 2,
                             path=tmp_path / "conv.png")
    assert len(fig.axes) == 4
    assert any(t.startswith("Output (3\u00d73)") for t in titles(fig))
    with Image.open(tmp_path / "conv.png") as im:
        assert im.format == "PNG"


def test_explain_cli_writes_png_and_gif(backend, tmp_path, capsys):
    png, gif = tmp_path / "a.png", tmp_path / "a.gif"
    assert cli.main(["--plot", str(png), "--animate", str(gif)]) == 0
    out = capsys.readouterr().out
    assert f"Wrote the figure to {png}" in out and f"Wrote the animation to {gif}" in out
    with Image.open(gif) as im:
        assert im.n_frames == 16
    with Image.open(png) as im:
        assert im.format == "PNG"


def test_lazy_attribute_if_exported():
    import deconv_core
    if "plot_steps" in getattr(deconv_core, "__all__", ()):
        assert deconv_core.plot_steps is pictures.plot_steps
