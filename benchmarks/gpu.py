"""GPU benchmark: chainrule on CuPy vs PyTorch eager, float32 without TF32, in one process.

    python benchmarks/gpu.py [--rounds 5] [--quick] [--output benchmarks/gpu_results.json]

Workloads (data placed on the GPU once, before timing, for both tools):

- W3: 60000×784, 784-256-128-10 ReLU, softmax cross-entropy, Adam, batch 128, one epoch;
- W3 with batch 4096;
- wide: three 4096×4096 Dense layers (ReLU between), MSE, Adam, batch 1024, one epoch of
  16384 samples (16 steps).

Both tools do the same work per step: chainrule's ``fit`` runs with ``metric=None`` because
the PyTorch loop computes no accuracy (a row with chainrule's default metric is shown for
W3). Before timing, GPU results are checked against the CPU to float32 precision. The
result (JSON with a Markdown section) is what ``run.py`` puts into ``RESULTS.md``.
"""

from __future__ import annotations

import os

os.environ["CUPY_TF32"] = "0"  # before CuPy is imported: plain float32 matrix products

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import w3  # noqa: E402
import w4  # noqa: E402
from workloads import FULL, QUICK  # noqa: E402


def _sync():
    import cupy

    cupy.cuda.Device().synchronize()


def chainrule_case(kind, sizes, X, y, batch, metric=None):
    import chainrule as cr

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


def torch_case(kind, sizes, X, y, batch):
    if kind == "w3":
        return w3.build("pytorch", X, y, sizes, device="cuda", batch_size=batch)
    return w4.build("pytorch", sizes, X, y, optimizer="adam", device="cuda", batch=batch)


def time_cases(cases: dict, rounds: int, warmup: int = 2) -> dict:
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


def check_against_cpu(sizes) -> dict:
    """GPU float32 and CPU float32, each against CPU float64 (the reference), from the same
    weights on 4096 W3 samples: the gradients of one backward pass through the ReLU W3
    network, and the weights and losses after two epochs of Adam on the same network with
    tanh (smooth: with ReLU, a unit whose input rounds to the other side of 0 switches, so
    any two precisions drift apart at a few weights however exact each is)."""
    import chainrule as cr

    X, y = w3.make_data(replace(sizes, w3_samples=4096))
    dims = w3.layer_sizes(sizes)
    runs = [("cpu", "float64", "cpu64"), ("cpu", "float32", "cpu32"), ("cuda", "float32", "gpu32")]
    grads, weights, losses = {}, {}, {}
    for activation in ("relu", "tanh"):
        start = cr.mlp(dims, activation=activation, rng=0, dtype="float64").get_weights()
        for device, dtype, key in runs:
            net = cr.mlp(dims, activation=activation, dtype=dtype, device=device)
            net.set_weights(start)
            if activation == "relu":
                loss = cr.losses.CrossEntropy()
                loss.forward(net.forward(net.to_device(X)), y)
                net.backward(loss.backward())
                grads[key] = [cr.backend.to_numpy(p.grad).astype(np.float64) for p in net.parameters()]
                continue
            history = net.fit(X, y, loss="cross_entropy", optimizer=cr.optim.Adam(1e-3), epochs=2,
                              batch_size=sizes.w3_batch, verbose=0, rng=0)
            weights[key], losses[key] = net.get_weights(), history.loss

    def rel_max(a_list, b_list):
        return max(float(np.abs(a - b).max() / np.abs(b).max()) for a, b in zip(a_list, b_list))

    def rel_norm(a_list, b_list):
        return max(float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(a_list, b_list))

    out = {}
    for key in ("gpu32", "cpu32"):
        out[key] = {"gradient": rel_max(grads[key], grads["cpu64"]),
                    "weights_norm": rel_norm(weights[key], weights["cpu64"]),
                    "weights_max": rel_max(weights[key], weights["cpu64"]),
                    "loss_history": max(abs(a - b) / abs(b) for a, b in zip(losses[key], losses["cpu64"]))}
    out["gpu32_vs_cpu32_gradient"] = rel_max(grads["gpu32"], grads["cpu32"])
    return out


def device_info() -> dict:
    import cupy
    import torch

    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return {"gpu": name, "cupy": cupy.__version__, "torch": torch.__version__,
            "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(), "CUPY_TF32": os.environ.get("CUPY_TF32"),
            "torch_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def markdown(result) -> str:
    d = result["device"]
    lines = ["## GPU: chainrule (CuPy) vs PyTorch eager", "",
             f"Measured {d['date']} on an **{d['gpu']}** with `{result['command']}` (CuPy {d['cupy']}, "
             f"PyTorch {d['torch']}, CUDA runtime {d['cuda_runtime']}); float32, TF32 off "
             f"(`CUPY_TF32={d['CUPY_TF32']}`, `torch.backends.cuda.matmul.allow_tf32={d['torch_allow_tf32']}`, "
             "cuDNN TF32 off). Data is on the GPU before timing; two untimed warm-up runs of each, then "
             f"{result['rounds']} interleaved rounds, medians.", "",
             "| workload | tool | median s | samples/s | chainrule samples/s ÷ PyTorch's |", "|---|---|---|---|---|"]
    for w in result["workloads"]:
        torch_rate = w["rows"]["pytorch"]["samples_per_s"]
        for tool, row in w["rows"].items():
            ratio = f"{row['samples_per_s'] / torch_rate:.2f}×" if tool != "pytorch" else ""
            lines.append(f"| {w['name']} | {tool} | {row['median_s']:.4f} | {row['samples_per_s']:,.0f} | {ratio} |")
    c = result["check"]
    lines += ["", "Accuracy check, 4096 W3 samples, same initial weights, each run against the CPU in float64 "
              "(max |Δ| / max |reference| per tensor, or ‖Δ‖ / ‖reference‖; the largest over tensors):", "",
              "| run | gradients, ReLU network, one backward pass | weights after 2 epochs of Adam, tanh "
              "network (norm / max) | loss history |", "|---|---|---|---|"]
    for key, label in (("gpu32", "GPU float32"), ("cpu32", "CPU float32")):
        lines.append(f"| {label} | {c[key]['gradient']:.1e} | {c[key]['weights_norm']:.1e} / "
                     f"{c[key]['weights_max']:.1e} | {c[key]['loss_history']:.1e} |")
    lines += ["", f"GPU vs CPU gradients, both float32: {c['gpu32_vs_cpu32_gradient']:.1e}."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default=str(HERE / "gpu_results.json"))
    args = parser.parse_args(argv)
    from chainrule.backend import cupy_module

    try:
        cupy = cupy_module()
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("PyTorch sees no CUDA GPU (a CPU build of torch?)")
    except (RuntimeError, ImportError) as exc:
        print(f"gpu.py needs an NVIDIA GPU with CuPy and a CUDA build of PyTorch: {exc}", file=sys.stderr)
        return 2

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    sizes = QUICK if args.quick else FULL
    result = {"device": device_info(), "rounds": args.rounds, "workloads": [],
              "command": "python benchmarks/gpu.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    result["check"] = check_against_cpu(sizes)
    print("check", result["check"], flush=True)

    X3, y3 = w3.make_data(sizes)
    X3d, y3d = cupy.asarray(X3), cupy.asarray(y3)
    wide_n = 16 * sizes.w4_batch
    X4, y4 = w4.make_data(sizes, n_samples=wide_n)
    X4d, y4d = cupy.asarray(X4), cupy.asarray(y4)
    specs = [("W3, batch 128", "w3", X3d, y3d, X3, y3, 128),
             ("W3, batch 4096", "w3", X3d, y3d, X3, y3, 4096),
             (f"wide {sizes.w4_width}×{sizes.w4_layers}, batch {sizes.w4_batch}", "wide", X4d, y4d, X4, y4,
              sizes.w4_batch)]
    for name, kind, Xd, yd, Xh, yh, batch in specs:
        cases = {"chainrule": chainrule_case(kind, sizes, Xd, yd, batch),
                 "pytorch": torch_case(kind, sizes, Xh, yh, batch)}
        if kind == "w3":
            cases["chainrule, default metric"] = chainrule_case(kind, sizes, Xd, yd, batch, metric="auto")
        times = time_cases(cases, args.rounds)
        n = Xh.shape[0]
        rows = {tool: {"median_s": statistics.median(ts), "min_s": min(ts), "samples_per_s": n / statistics.median(ts)}
                for tool, ts in times.items()}
        result["workloads"].append({"name": name, "rows": rows})
        print(name, {t: f"{r['samples_per_s']:,.0f}/s" for t, r in rows.items()},
              f"ratio {rows['chainrule']['samples_per_s'] / rows['pytorch']['samples_per_s']:.2f}", flush=True)
    result["markdown"] = markdown(result)
    out = Path(args.output)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, out)
    print(result["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
