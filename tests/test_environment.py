"""``chainrule info`` and ``chainrule.environment``: what chainrule runs on, and its hints."""

import json
import os
import platform

import numpy as np
import pytest

from chainrule import environment
from chainrule.cli import main


def test_info_json_describes_this_process(capsys):
    assert main(["info", "--json", "--no-probe"]) == 0
    info = json.loads(capsys.readouterr().out)
    packages = {p["name"]: p["version"] for p in info["packages"]}
    assert packages["numpy"] == np.__version__
    import sklearn

    assert packages["scikit-learn"] == sklearn.__version__
    assert info["cpu"]["cores"] == len(os.sched_getaffinity(0))
    assert info["openblas_coretype"] == os.environ.get("OPENBLAS_CORETYPE")
    assert info["openblas_native_kernels"] is None  # --no-probe
    # NumPy's BLAS, with its thread count (threadpoolctl recognises OpenBLAS and MKL, not Accelerate)
    assert isinstance(info["blas"], list) and all(b["threads"] >= 1 for b in info["blas"])
    from chainrule.backend import gpu_available

    assert info["gpu"]["available"] is gpu_available()
    if not info["gpu"]["available"]:
        assert "cuda" in info["gpu"]["reason"].lower() and info["gpu"]["devices"] == []


def test_info_table_names_blas_cpu_and_gpu(capsys):
    assert main(["info", "--no-probe"]) == 0
    out = capsys.readouterr().out
    for label in ("numpy", "safetensors", "CPU", "BLAS", "GPU", "used for"):
        assert label in out


def test_hint_only_when_the_pin_differs_from_openblass_own_choice():
    (hint,) = environment.blas_hints("Haswell", ["Haswell"], "SkylakeX")
    assert "OPENBLAS_CORETYPE=Haswell" in hint and "SkylakeX" in hint and "Unset OPENBLAS_CORETYPE" in hint
    assert environment.blas_hints("SkylakeX", ["SkylakeX"], "SkylakeX") == []
    assert environment.blas_hints("skylakex", ["SkylakeX"], "SKYLAKEX") == []  # names compared as OpenBLAS does
    assert environment.blas_hints(None, ["Haswell"], None) == []  # nothing pinned
    assert environment.blas_hints("Haswell", ["Haswell"], None) == []  # the child could not say: no guess


_PINNED_AT_START = "OPENBLAS_CORETYPE" in os.environ  # before NumPy's OpenBLAS loaded in this process
_SAFE_CORE = {"x86_64": "Prescott", "AMD64": "Prescott", "aarch64": "ARMV8"}.get(platform.machine())


@pytest.mark.skipif(_SAFE_CORE is None, reason="no OpenBLAS core type known to be safe on this machine")
def test_native_kernels_asks_a_process_without_the_variable(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    assert environment.native_kernels() is None  # not pinned: nothing to ask
    monkeypatch.setenv("OPENBLAS_CORETYPE", _SAFE_CORE)
    native = environment.native_kernels()
    running = [b["kernels"] for b in environment.blas_libraries() if b["library"] == "openblas"]
    if not running:
        pytest.skip("NumPy's BLAS is not OpenBLAS here")
    assert isinstance(native, str) and native
    if not _PINNED_AT_START:  # this process's OpenBLAS detected the CPU itself, as the child's did
        assert native == running[0]


def test_cpu_description_reads_vector_extensions():
    cpu = environment.cpu_description()
    assert cpu["cores"] >= 1 and isinstance(cpu["model"], str) and cpu["model"]
    if platform.machine() == "x86_64" and os.path.exists("/proc/cpuinfo"):
        assert "sse4_2" in cpu["vector"] or "avx" in cpu["vector"]


def test_an_unrecognised_blas_is_not_blamed_on_a_missing_threadpoolctl(monkeypatch, capsys):
    import threadpoolctl

    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: [])
    assert environment.blas_libraries() == []
    assert main(["info", "--no-probe"]) == 0
    out = capsys.readouterr().out
    assert "threadpoolctl does not recognise it" in out and "not installed" not in out.split("BLAS")[1].split("\n")[0]
    import sys

    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # an import of it now fails
    assert environment.blas_libraries() is None
    assert main(["info", "--no-probe"]) == 0
    assert "unknown (threadpoolctl is not installed)" in capsys.readouterr().out
