"""Run the deconv_core benchmark harness: ``python benchmarks/run.py [options]``.

The same as ``python -m deconv_core bench [options]``; see ``--help`` and
``benchmarks/README.md``.
"""
import os
import sys

# Run from a source checkout without installing: the package beside this folder first.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from deconv_core.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
