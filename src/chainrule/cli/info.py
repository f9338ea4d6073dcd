"""``chainrule info``: what chainrule runs on (versions, BLAS, CPU, GPU) and hints."""

from __future__ import annotations

from ._output import json_text


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "info", help="show what chainrule runs on: versions, BLAS, CPU, GPU",
        description="Show the versions of chainrule and the packages it uses, the BLAS behind NumPy's "
        "matrix products (its kernels and threads), the CPU, whether `--device cuda` works here, and "
        "hints where the environment makes training slower than this machine allows.")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--no-probe", action="store_true",
                        help="do not start a Python process to ask which kernels OpenBLAS would choose "
                             "without OPENBLAS_CORETYPE")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from ..environment import describe

    info = describe(probe_native=not args.no_probe)
    if args.json:
        print(json_text(info, indent=2))
        return 0
    from rich.table import Table
    from rich.text import Text

    from ._output import report_console

    console = report_console()
    packages = Table(title=f"chainrule {info['chainrule']} on Python {info['python']}")
    for column in ("package", "version", "used for"):
        packages.add_column(column)
    for package in info["packages"]:
        packages.add_row(Text(package["name"]), Text(package["version"] or "not installed"), Text(package["role"]))
    console.print(packages)
    table = Table(title="where it runs", show_header=False)
    table.add_column("what")
    table.add_column("value")
    cpu = info["cpu"]
    table.add_row("CPU", Text(f"{cpu['model']}, {cpu['cores']} usable cores, {' '.join(cpu['vector']) or '?'}"))
    if not info["blas"]:
        why = "threadpoolctl is not installed" if info["blas"] is None else "threadpoolctl does not recognise it"
        table.add_row("BLAS", f"unknown ({why})")
    for blas in info["blas"] or ():
        kernels = f", {blas['kernels']} kernels" if blas["kernels"] else ""
        table.add_row("BLAS", Text(f"{blas['library']} {blas['version']}{kernels}, {blas['threads']} threads "
                                   f"({blas['file']})"))
    if info["openblas_coretype"] is not None:
        native = info["openblas_native_kernels"]
        table.add_row("OPENBLAS_CORETYPE", Text(f"{info['openblas_coretype']}"
                                                + (f" (OpenBLAS's own choice here: {native})" if native else "")))
    table.add_row("CPU kernels", Text(info["cpu_kernels"]["summary"]))
    gpu = info["gpu"]
    if gpu["available"]:
        for device in gpu["devices"]:
            table.add_row(f"GPU {device['index']}", Text(f"{device['name']}, {device['memory_gib']} GiB"))
    else:
        table.add_row("GPU", Text(f"not available: {gpu['reason']}"))
    console.print(table)
    for hint in info["hints"]:
        console.print(Text("hint: " + hint))
    return 0
