"""The shared benchmark workloads (``data/workloads.json``, shipped with the package)."""
import json
import math
import os

__all__ = ["WORKLOADS_PATH", "load_workloads", "workload_flops"]

WORKLOADS_PATH = os.path.join(os.path.dirname(__file__), "data", "workloads.json")


def load_workloads(path=None):
    """``{name: spec}`` from the workloads file (the shipped one by default)."""
    with open(path or WORKLOADS_PATH) as fh:
        return json.load(fh)["workloads"]


def workload_flops(spec):
    """FLOPs of one call, counted as the file defines them (2 * MACs)."""
    nd = len(spec["size"])
    macs = (spec["N"] * spec["Cin"] * math.prod(spec["size"])
            * (spec["Cout"] // spec["groups"]) * spec["kernel"] ** nd)
    return 2 * macs
