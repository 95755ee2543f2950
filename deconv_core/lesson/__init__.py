"""The lesson this project grew from, in arrays, text and pictures.

* :mod:`.steps`: the four steps as real arrays (:func:`steps`);
* :mod:`.text`: every step as aligned text grids (``python -m deconv_core explain``);
* :mod:`.pictures`: the same as matplotlib figures and GIFs (the ``plot`` extra);
* :mod:`.cli`: the ``explain`` command line.

``deconv_core.steps``, ``deconv_core.Steps`` and ``deconv_core.plot_steps`` are the
public names; nothing here is imported with ``import deconv_core`` but the steps.
"""
