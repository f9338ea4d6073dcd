"""The GPU benchmark's workloads: what is timed (chainrule and PyTorch on the same data and
work) and how (warm-up runs, then interleaved rounds in a rotating order)."""

from __future__ import annotations

import time

#: (key, title, kind, batch or None for W4's, timed rounds, goal for chainrule samples/s ÷ PyTorch's)
WORKLOADS = (
    ("w3_128", "W3, batch 128", "w3", 128, 10, None),
    ("w3_4096", "W3, batch 4096", "w3", 4096, 30, 1.0),
    ("wide", None, "wide", None, 30, 1.0),
)
QUICK_ROUNDS = 2
WARMUP = 2


def suite():
    """The benchmark suite's modules, imported when first needed: importing the GPU benchmark stays cheap."""
    import w3
    import w4
    from workloads import FULL, QUICK

    return w3, w4, FULL, QUICK


def _sync():
    import cupy

    cupy.cuda.Device().synchronize()


def chainrule_case(kind, sizes, X, y, batch, metric=None):
    """One epoch of chainrule's ``fit`` on the device data ``X``, ``y``, as a function of no arguments."""
    import chainrule as cr

    w3 = suite()[0]
    if kind == "w3":
        net = cr.mlp(w3.layer_sizes(sizes), activation="relu", rng=0, dtype="float32", device="cuda")
        kwargs = dict(loss="cross_entropy", batch_size=batch, rng=0)
    else:
        net = cr.mlp([sizes.w4_width] * (sizes.w4_layers + 1), activation="relu", rng=0, dtype="float32",
                     device="cuda")
        kwargs = dict(loss="mse", batch_size=batch, shuffle=False)
    opt = cr.optim.Adam(1e-3)

    def run():
        net.fit(X, y, optimizer=opt, epochs=1, verbose=0, metric=metric, **kwargs)
        _sync()

    return run


def torch_case(kind, sizes, X, y, batch, device="cuda"):
    """The same epoch in PyTorch eager (the suite's loop, on ``device``), as a function of no arguments."""
    w3, w4 = suite()[:2]
    if kind == "w3":
        return w3.build("pytorch", X, y, sizes, device=device, batch_size=batch)
    return w4.build("pytorch", sizes, X, y, optimizer="adam", device=device, batch=batch)


def time_cases(cases: dict, rounds: int, warmup: int = WARMUP) -> dict:
    """Seconds per run of each case: ``warmup`` untimed runs each, then ``rounds`` rounds in
    which every case runs once, the order rotated each round."""
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t0 = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def plan(sizes, rounds_override=None, quick=False) -> list:
    """The workloads to run, each as the entry the results keep (status 'pending')."""
    out = []
    for key, title, kind, batch, rounds, goal in WORKLOADS:
        if kind == "wide":
            batch = sizes.w4_batch
            title = f"wide {sizes.w4_width}×{sizes.w4_layers}, batch {batch}"
        if rounds_override:
            rounds = rounds_override
        elif quick:
            rounds = QUICK_ROUNDS
        out.append({"key": key, "name": title, "kind": kind, "batch": batch, "rounds": rounds, "goal": goal,
                    "status": "pending"})
    return out


