"""``python -m deconv_core apply``: a zarr array through one op into a new zarr array.

The output is written chunk by chunk into a temporary sibling of OUT and renamed to
OUT when every chunk is written; on any error the sibling is removed, so OUT never
holds a partial result. Each output chunk of the zarr grid is one task that reads
just the input slice it needs (the chunk's inputs plus a one-sided halo), so the
memory per task is a few chunks whatever the array's size.
"""
import argparse
import contextlib
import os
import shutil
import sys
import time
import uuid

import numpy as np

from .._cli_args import padding_items

__all__ = ["apply_zarr", "build_parser", "main"]

PROG = "python -m deconv_core apply"
_LOCAL = ("threads", "processes", "sync", "synchronous")   # dask's local schedulers


class _OneLineParser(argparse.ArgumentParser):
    """Errors as one line (no usage block): scripts read the last line of stderr."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class ApplyError(Exception):
    """A bad input of the command, said in one line."""


def _ints(spec):
    """``"2"`` -> 2, ``"2,1"`` -> (2, 1)."""
    try:
        vals = tuple(int(v) for v in spec.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{spec!r}: expected an int or comma-separated ints (one per spatial dim) "
            f"like 2 or 2,1") from None
    return vals[0] if len(vals) == 1 else vals


def _padding(spec):
    """An int, ints per dim, ``before:after`` pairs per dim, ``valid`` or ``same``."""
    try:
        items = padding_items(spec)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{spec!r}: expected an int, one int per spatial dim like 1,0, before:after "
            f"pairs like 1:0,0:1, 'valid' or 'same'") from None
    if isinstance(items, str):
        return items
    if len(items) == 1 and len(items[0]) == 1:
        return items[0][0]
    return tuple(t[0] if len(t) == 1 else t for t in items)


def _chunks(spec):
    if spec.strip().lower() == "auto":
        return "auto"
    try:
        vals = tuple(int(v) for v in spec.split(","))
        if any(v == 0 or v < -1 for v in vals):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{spec!r}: expected 'auto' or one int per dim of the input (-1: the whole "
            f"dim) like 1,8,512,512") from None
    return vals


def build_parser():
    p = _OneLineParser(
        prog=PROG,
        description="Stream a zarr array (N, C_in, *spatial) or (C_in, *spatial) through "
                    "deconv_core's transposed convolution (--transposed) or convolution "
                    "into a new zarr array OUT, chunk by chunk, with a progress bar. The "
                    "weight's number of dims picks 1-D, 2-D or 3-D. OUT appears only when "
                    "every chunk is written. Needs the dask extra: "
                    "pip install 'deconv_core[dask]'.")
    p.add_argument("input", metavar="IN.zarr", help="the input zarr array")
    p.add_argument("output", metavar="OUT.zarr", help="the output zarr array (created)")
    p.add_argument("--weight", required=True, metavar="W.npy",
                   help="the weight: (C_in, C_out // groups, *k) with --transposed, else "
                        "(C_out, C_in // groups, *k)")
    p.add_argument("--bias", metavar="B.npy", help="the bias, (C_out,)")
    p.add_argument("--transposed", action="store_true",
                   help="transposed convolution (default: convolution)")
    p.add_argument("--stride", type=_ints, default=1, metavar="S", help="default 1")
    p.add_argument("--padding", type=_padding, default=0, metavar="P",
                   help="int, one per dim (1,0), before:after pairs (1:0,0:1), 'valid' or "
                        "'same' (default 0)")
    p.add_argument("--groups", type=int, default=1, metavar="G", help="default 1")
    p.add_argument("--dilation", type=_ints, default=1, metavar="D", help="default 1")
    p.add_argument("--output-padding", type=_ints, default=0, metavar="OP",
                   help="with --transposed only (default 0)")
    p.add_argument("--chunks", type=_chunks, default=None, metavar="C",
                   help="the input's chunks for the computation: one int per dim (-1: "
                        "whole dim) or 'auto' (default: the zarr array's own chunks)")
    p.add_argument("--scheduler", default="threads", metavar="threads|processes|sync|ADDRESS",
                   help="dask's local threads (default) or processes, sync, or the address "
                        "of a distributed scheduler (tcp://host:8786)")
    p.add_argument("--num-threads", type=int, default=None, metavar="T",
                   help="kernel threads per task (default: the cores divided by the "
                        "tasks that run at once)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _load_npy(option, path):
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ApplyError(f"{option} {path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise ApplyError(f"{option} {path}: not a .npy file ({_one_line(exc)})") from None


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


def _open_input(path):
    import zarr
    if not os.path.exists(path):
        raise ApplyError(f"{path}: no such file or directory")
    try:
        return zarr.open_array(store=path, mode="r")
    except Exception as exc:  # zarr raises several kinds for "not an array here"
        raise ApplyError(f"{path}: not a zarr array ({_one_line(exc)})") from None


def _zarr_chunks(y, nd):
    """The output's zarr chunk grid: the spatial chunks as computed (a regular grid),
    batch and channels too where theirs are regular, else one chunk."""
    sizes = []
    for axis, dim in enumerate(y.chunks):
        regular = all(c == dim[0] for c in dim[:-1]) and dim[-1] <= dim[0]
        sizes.append(dim[0] if (regular or axis >= y.ndim - nd) and dim[0]
                     else max(1, y.shape[axis]))
    return tuple(sizes)


def apply_zarr(input, output, weight, bias=None, *, transposed=False, stride=1, padding=0,
               output_padding=0, groups=1, dilation=1, chunks=None, scheduler="threads",
               num_threads=None, overwrite=False, progress=True):
    """Compute one op of a zarr array into a new zarr array; return the output's path.

    Parameters
    ----------
    input, output : str
        Paths of the input zarr array and of the output to create (next to it, a
        temporary sibling ``.OUT.partial-*`` holds the chunks until all are written).
    weight, bias : ndarray
        As for :mod:`deconv_core.dask`; the weight's dims pick 1-D, 2-D or 3-D.
    transposed : bool
        The transposed op (else the forward convolution).
    stride, padding, output_padding, groups, dilation
        As for the op (``output_padding`` with ``transposed`` only).
    chunks : tuple of ints or 'auto', optional
        The input's chunks for the computation (default: the zarr array's).
    scheduler : str or distributed.Client
        ``'threads'``, ``'processes'``, ``'sync'``, a distributed scheduler's address,
        or a client.
    num_threads : int, optional
        Kernel threads per task.
    overwrite : bool
        Replace ``output`` if it exists (else that is an error).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    str
        ``output``.

    Raises
    ------
    ApplyError
        For a missing or unreadable input, an existing output, or an invalid argument
        (the message is one line); nothing is left under ``output``.

    Examples
    --------
    >>> import os, tempfile, numpy as np, zarr
    >>> from deconv_core.dask.apply import apply_zarr
    >>> d = tempfile.mkdtemp()
    >>> src = zarr.create_array(store=os.path.join(d, "in.zarr"), shape=(1, 2, 16, 16),
    ...                         chunks=(1, 2, 8, 8), dtype="f4")
    >>> src[:] = 1
    >>> w = np.ones((2, 3, 4, 4), dtype=np.float32)
    >>> out = apply_zarr(os.path.join(d, "in.zarr"), os.path.join(d, "out.zarr"), w,
    ...                  transposed=True, stride=2, padding=1, progress=False)
    >>> z = zarr.open_array(out, mode="r")
    >>> z.shape, z.chunks
    ((1, 3, 32, 32), (1, 3, 16, 16))
    """
    import dask.array as da
    import zarr
    from . import _op

    output = os.path.abspath(output)
    if isinstance(scheduler, str) and scheduler not in _LOCAL and "://" not in scheduler \
            and ":" not in scheduler:
        raise ApplyError(f"scheduler={scheduler!r} must be threads, processes, sync or a "
                         f"distributed scheduler's address like tcp://127.0.0.1:8786")
    if os.path.lexists(output) and not overwrite:
        raise ApplyError(f"{output}: exists (pass --overwrite to replace it)")
    if not os.path.isdir(os.path.dirname(output)):
        raise ApplyError(f"{output}: its folder does not exist")
    src = _open_input(input)
    nd = np.ndim(weight) - 2
    if nd not in (1, 2, 3):
        raise ApplyError(f"weight has shape {np.shape(weight)}; expected "
                         f"{'(C_in, C_out // groups' if transposed else '(C_out, C_in // groups'}"
                         f", *k) with 1 to 3 kernel dims")
    if not transposed and output_padding not in (0, None):
        raise ApplyError(f"output_padding={output_padding!r} applies to the transposed op "
                         f"only (--transposed)")
    if chunks is not None and chunks != "auto" and len(chunks) != src.ndim:
        raise ApplyError(f"chunks={chunks} has {len(chunks)} entries; the input {input} has "
                         f"{src.ndim} dims {src.shape}")
    try:
        x = da.from_zarr(src, chunks=chunks if chunks is not None else src.chunks)
        fname = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
        y, geometry = _op(fname, nd, transposed, x, weight, bias, stride, padding, dilation,
                          groups, output_padding if transposed else 0, None, num_threads,
                          regular=True)
    except (ValueError, TypeError) as exc:
        raise ApplyError(_one_line(exc)) from None

    out_chunks = _zarr_chunks(y, nd)
    y = y.rechunk(out_chunks)   # a no-op but where batch or channel chunks are irregular
    tmp = os.path.join(os.path.dirname(output),
                       f".{os.path.basename(output)}.partial-{uuid.uuid4().hex[:12]}")
    attrs = {"deconv_core": {   # how OUT was made
        "op": fname, "input": os.path.abspath(input), "weight_shape": list(np.shape(weight)),
        "bias": bias is not None, "stride": list(geometry[1]), "padding": _json(padding),
        "output_padding": _json(output_padding if transposed else 0),
        "dilation": list(geometry[3]), "groups": geometry[4]}}
    try:
        dst = zarr.create_array(store=tmp, shape=y.shape, chunks=out_chunks, dtype=y.dtype,
                                zarr_format=src.metadata.zarr_format, attributes=attrs)
        stored = da.store(y, dst, lock=False, compute=False)
        _run(stored, scheduler, progress)
        if os.path.lexists(output):
            shutil.rmtree(output) if os.path.isdir(output) else os.remove(output)
        os.rename(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return output


def _json(value):
    """Tuples as lists, for the output's attributes."""
    if isinstance(value, (tuple, list)):
        return [_json(v) for v in value]
    return value if isinstance(value, str) else int(value)


def _run(stored, scheduler, progress):
    import dask
    if not isinstance(scheduler, str):          # a distributed.Client
        return _run_distributed(stored, scheduler, progress)
    if scheduler in _LOCAL:
        bar = contextlib.nullcontext()
        if progress:
            from dask.diagnostics import ProgressBar
            bar = ProgressBar(out=sys.stderr)
        with bar:
            dask.compute(stored, scheduler=scheduler)
        return None
    from distributed import Client
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, ValueError, TypeError) as exc:
        raise ApplyError(f"scheduler {scheduler!r}: cannot connect ({_one_line(exc)}); "
                         f"expected threads, processes, sync or an address like "
                         f"tcp://127.0.0.1:8786") from None
    with client:
        return _run_distributed(stored, client, progress)


def _run_distributed(stored, client, progress):
    future = client.compute(stored)
    if progress:
        from distributed import progress as show
        with contextlib.redirect_stdout(sys.stderr):
            show(future)
    future.result()


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        weight = _load_npy("--weight", args.weight)
        bias = None if args.bias is None else _load_npy("--bias", args.bias)
        padding = args.padding
        if isinstance(padding, tuple) and len(padding) == 1:   # one pair: every dim
            padding = padding * max(1, weight.ndim - 2)
        out = apply_zarr(args.input, args.output, weight, bias, transposed=args.transposed,
                         stride=args.stride, padding=padding,
                         output_padding=args.output_padding, groups=args.groups,
                         dilation=args.dilation, chunks=args.chunks, scheduler=args.scheduler,
                         num_threads=args.num_threads, overwrite=args.overwrite,
                         progress=not args.quiet)
    except ApplyError as exc:
        parser.exit(1, f"{PROG}: error: {exc}\n")
    except KeyboardInterrupt:
        parser.exit(130, f"{PROG}: interrupted; nothing written to {args.output}\n")
    except Exception as exc:   # a failure while computing: OUT was not created
        parser.exit(1, f"{PROG}: error: {type(exc).__name__}: {_one_line(exc)} (nothing "
                       f"written to {args.output})\n")
    import zarr
    z = zarr.open_array(out, mode="r")
    print(f"wrote {out}: shape {z.shape}, {z.dtype}, chunks {z.chunks}, in "
          f"{time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
