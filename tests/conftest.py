"""Shared test helpers: an independent central-difference gradient and target makers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def numerical_gradient(f, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to ``array`` (perturbed in place)."""
    grad = np.zeros_like(array)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def relative_error(analytic, numeric) -> float:
    """||a - n|| / max(||a|| + ||n||, tiny): the usual gradient-check measure."""
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    denom = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12)
    return float(np.linalg.norm(analytic - numeric) / denom)


def targets_for(loss, n: int, k: int, rng: np.random.Generator, one_hot: bool = False):
    """Valid targets for ``loss`` with ``n`` samples and ``k`` outputs."""
    if loss.name == "bce":
        return rng.integers(0, 2, size=(n, k)).astype(float)
    if loss.name == "cross_entropy":
        labels = rng.integers(0, k, size=n)
        return np.eye(k)[labels] if one_hot else labels
    if loss.name == "hinge":
        return rng.choice([-1.0, 1.0], size=(n, k))
    return rng.normal(size=(n, k))


@pytest.fixture
def one_blas_thread():
    """Small matrices: one BLAS thread is fastest, and on a shared machine several threads
    spin-wait for each other (modules opt in with ``pytestmark``)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, out_dir):
    """Run ``examples/<name>``'s ``main(out_dir)`` and return what it returns."""
    import runpy

    return runpy.run_path(str(EXAMPLES / name), run_name="exercise")["main"](out_dir)


def assert_png(path, min_bytes=20_000):
    """``path`` is a real PNG image of at least ``min_bytes``."""
    path = Path(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > min_bytes


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def close_figures():
    """Example scripts and plot tests leave pyplot figures open; close them after each test so
    matplotlib's "more than 20 figures" warning (an error under the project's filters) never
    depends on which tests ran before."""
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture
def iris_table(tmp_path):
    """Iris as a CSV a user would write (named columns, a text species column): (path, frame)."""
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    frame = data.frame.drop(columns="target")
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    frame["species"] = [data.target_names[i] for i in data.target]
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    return path, frame


@pytest.fixture
def iris_csv(iris_table):
    """The path of ``iris_table``'s CSV."""
    return iris_table[0]


def train_iris(data, *extra, epochs: int = 3) -> list:
    """``chainrule train`` arguments for a quiet, short run on an iris-like table ``data``."""
    return ["train", "--data", str(data), "--target", "species", "--epochs", str(epochs), "--quiet",
            *map(str, extra)]


def one_line_error(argv, capsys) -> str:
    """Run the CLI with ``argv``; assert it exits 2 with one line on stderr (no traceback) and
    return that line."""
    from chainrule.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def set_key(*keys, value):
    """An edit for a model file's record: set ``document[k1][k2]... = value``."""
    def edit(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return edit


def rewrite_record(path, out, edit):
    """Copy a model file with its chainrule record changed by ``edit(document)`` (tensors
    unchanged) and, for format version 2, its checksum made to match, as a forger would."""
    import json

    from safetensors.numpy import load_file, save_file

    from chainrule.io import read_header
    from chainrule.io_format import checksum

    document, tensors = read_header(path), load_file(str(path))
    edit(document)
    if document.get("format_version") == 2:  # version 1's checksum covers the tensors only
        document["sha256"] = checksum(document, tensors)
    save_file(tensors, str(out), metadata={"chainrule": json.dumps(document)})
    return out

