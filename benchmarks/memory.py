"""Peak resident memory of W3 for one tool, measured in a fresh process.

Run by ``run.py`` as ``python benchmarks/memory.py --tool TOOL [--quick] [--block pandas,pyarrow]``;
prints one JSON line: the tool, the peak RSS of the whole process and the RSS just before
training (interpreter, the tool's imports and the data).

``--block`` makes the named packages fail to import in this process. scikit-learn imports
pandas whenever it is installed (and pandas may load pyarrow): that is scikit-learn's real
cost where they are installed, and blocking them measures it where they are not.

The peak is ``VmHWM`` from ``/proc/self/status``: the high-water mark of this process's own
address space. ``getrusage``'s ``ru_maxrss`` is not used on Linux because it carries over the
parent's peak through fork and exec, so a child of a big benchmark process would report the
parent's size.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys


def current_rss_mib() -> float:
    """Resident set size now, from /proc (Linux); NaN elsewhere."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
    except OSError:
        return float("nan")
    return pages * resource.getpagesize() / 2**20


def peak_rss_mib() -> float:
    """Peak resident set size of this process (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 1024)


class _Blocked:
    """A meta-path finder that makes ``names`` (and their submodules) fail to import."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.names:
            raise ImportError(f"{fullname} is blocked for this measurement")
        return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tool", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--block", default="", help="comma-separated packages that must not import")
    args = parser.parse_args(argv)
    blocked = [name for name in args.block.split(",") if name]
    if blocked:
        sys.meta_path.insert(0, _Blocked(blocked))

    import w3
    from workloads import FULL, QUICK

    if args.tool not in w3.TOOLS + (w3.NUMPY_KERNELS,):
        print(f"unknown tool {args.tool!r}; choose one of {', '.join(w3.TOOLS + (w3.NUMPY_KERNELS,))}",
              file=sys.stderr)
        return 2
    sizes = QUICK if args.quick else FULL
    X, y = w3.make_data(sizes)
    run = w3.build(args.tool, X, y, sizes)
    before = current_rss_mib()
    run()
    peak = peak_rss_mib()
    imported = sorted(name for name in ("pandas", "pyarrow", "numba", "torch", "sklearn") if name in sys.modules)
    print(json.dumps({"tool": args.tool, "peak_rss_mib": round(peak, 1), "before_fit_rss_mib": round(before, 1),
                      "blocked": blocked, "imported": imported}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
