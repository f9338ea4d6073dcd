"""Peak resident memory of W3 for one tool, measured in a fresh process.

Run by ``run.py`` as ``python benchmarks/memory.py --tool TOOL [--quick]``; prints one
JSON line: the tool, the peak RSS of the whole process and the RSS just before training
(interpreter, the tool's imports and the data).

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tool", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    import w3
    from workloads import FULL, QUICK

    if args.tool not in w3.TOOLS:
        print(f"unknown tool {args.tool!r}; choose one of {', '.join(w3.TOOLS)}", file=sys.stderr)
        return 2
    sizes = QUICK if args.quick else FULL
    X, y = w3.make_data(sizes)
    run = w3.build(args.tool, X, y, sizes)
    before = current_rss_mib()
    run()
    peak = peak_rss_mib()
    print(json.dumps({"tool": args.tool, "peak_rss_mib": round(peak, 1), "before_fit_rss_mib": round(before, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
