"""The playground's data: 2-D generators, seed 000's linear set, a 1-D ``sin(x)`` set, the
user's CSV, the train/test split and the input features (X₁, X₂, X₁², ...).

Every generator takes the number of points, a noise level in percent (0-50), the number of
classes where that applies and a seed; the same arguments give the same points. The plane is
the square [-6, 6]² (seed 000's Gaussian cloud keeps its own scale).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from ..datasets import lecture_linear

MAX_UPLOAD_BYTES = 1_000_000
MAX_UPLOAD_ROWS = 5000
MIN_UPLOAD_ROWS = 10
MAX_TARGET = 1e100  # a larger regression target overflows the squared error
PLANE = 6.0

FEATURE_LABELS = {
    "x1": "X₁", "x2": "X₂", "x1sq": "X₁²", "x2sq": "X₂²", "x1x2": "X₁X₂", "sinx1": "sin X₁", "sinx2": "sin X₂",
}


def feature_matrix(X: np.ndarray, features) -> np.ndarray:
    """The network's inputs: one column per feature name, computed from the coordinates.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Points of the plane (d = 2) or of the line (d = 1, only X₁ features).
    features : sequence of str
        Names from ``FEATURE_LABELS``.

    Returns
    -------
    ndarray, shape (n, len(features))
    """
    x1 = X[:, 0]
    x2 = X[:, 1] if X.shape[1] > 1 else None
    columns = {
        "x1": lambda: x1, "x1sq": lambda: x1 * x1, "sinx1": lambda: np.sin(x1),
        "x2": lambda: x2, "x2sq": lambda: x2 * x2, "x1x2": lambda: x1 * x2, "sinx2": lambda: np.sin(x2),
    }
    out = []
    for name in features:
        if name not in columns:
            raise ValueError(f"unknown feature {name!r}; choose from {', '.join(FEATURE_LABELS)}")
        if x2 is None and "2" in name:
            raise ValueError(f"feature {name} needs two input columns but the data has one")
        out.append(columns[name]())
    return np.column_stack(out).astype(np.float64)


@dataclass
class PlaygroundData:
    """A data set split into training and test points.

    Attributes
    ----------
    X_train, X_test : ndarray, shape (n, dims)
        Coordinates (before the features are computed).
    y_train, y_test : ndarray, shape (n,)
        Class labels 0..classes-1 (int) or real targets (float).
    task : {"binary", "multiclass", "regression"}
    classes : int
        Number of classes (0 for regression).
    extent : tuple of float
        ``(x_min, x_max, y_min, y_max)`` of the picture: the plane for 2-D data, the x range and
        the target range for 1-D data.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    classes: int
    extent: tuple

    @property
    def dims(self) -> int:
        return self.X_train.shape[1]

    def points(self) -> dict:
        """JSON-ready points for the page (rounded coordinates)."""
        def pack(X, y):
            return {"x": np.round(X, 4).tolist(), "y": np.round(y, 4).tolist() if self.task == "regression" else y.astype(int).tolist()}

        return {"train": pack(self.X_train, self.y_train), "test": pack(self.X_test, self.y_test)}


# -- generators: (n, noise in [0, 0.5], classes, rng) -> (X, y) -------------------------------------
def circle(n, noise, classes, rng):
    """Class 1 inside radius 2.5, class 0 in the ring 3.5-5.5; Gaussian jitter."""
    n_in = n // 2
    radius = np.concatenate([rng.uniform(0, 2.5, n_in), rng.uniform(3.5, 5.5, n - n_in)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    y = np.concatenate([np.ones(n_in, np.int64), np.zeros(n - n_in, np.int64)])
    return X + rng.normal(0, 3 * noise, X.shape), y


def xor(n, noise, classes, rng):
    """Uniform points away from the axes, labelled 1 where x₁·x₂ > 0."""
    X = rng.uniform(0.3, 5.5, (n, 2)) * rng.choice([-1.0, 1.0], (n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + rng.normal(0, 3 * noise, X.shape), y


def gauss(n, noise, classes, rng):
    """One Gaussian blob per class, centres evenly spaced on a circle of radius 3."""
    y = np.arange(n) % classes
    angle = np.pi / 4 + 2 * np.pi * y / classes
    centres = 3.0 * np.column_stack([np.cos(angle), np.sin(angle)])
    return centres + rng.normal(0, 0.6 + 4 * noise, (n, 2)), y.astype(np.int64)


def spiral(n, noise, classes, rng):
    """Interleaved spiral arms, one per class, turning 1.75 times from the centre out."""
    y = np.arange(n) % classes
    t = rng.uniform(0, 1, n) ** 0.8
    radius = 0.3 + 5.0 * t
    angle = 3.5 * np.pi * t + 2 * np.pi * y / classes
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return X + rng.normal(0, 2 * noise, X.shape), y.astype(np.int64)


def moons(n, noise, classes, rng):
    """scikit-learn's two moons (its noise = the level in [0, 0.5]), scaled to the plane."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise, random_state=int(rng.integers(2**31 - 1)))
    return np.column_stack([(X[:, 0] - 0.5) * 3.2, (X[:, 1] - 0.25) * 3.2]), y.astype(np.int64)


def linear(n, noise, classes, rng, seed=0):
    """Seed 000's data: ``RandomState(seed).randn(n, 2)`` labelled ``x₀ + x₁ > 0``; noise
    jitters the points after labelling."""
    X, y, _ = lecture_linear(n, seed=seed)
    return X + rng.normal(0, 2 * noise, X.shape), y


def sine(n, noise, classes, rng):
    """1-D regression (seed 002, Exercise 4): x uniform in [-π, π], y = sin x + N(0, noise²)."""
    x = rng.uniform(-np.pi, np.pi, n)
    return x.reshape(-1, 1), np.sin(x) + rng.normal(0, noise, n)


GENERATORS = {"circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral, "moons": moons, "linear": linear, "sine": sine}


def generate(config) -> PlaygroundData:
    """The built-in data set a ``Config`` describes, split by its ``ratio`` and ``seed``."""
    if config.dataset not in GENERATORS:
        raise ValueError(f"{config.dataset!r} is not a built-in dataset; choose from {', '.join(GENERATORS)}")
    rng = np.random.default_rng(config.seed)
    noise = config.noise / 100.0
    classes = config.classes if config.dataset in ("gauss", "spiral") else 2
    if config.dataset == "linear":
        X, y = linear(config.points, noise, classes, rng, seed=config.seed)
    else:
        X, y = GENERATORS[config.dataset](config.points, noise, classes, rng)
    if config.dataset == "sine":
        # the plot runs 0.6 past the data on each side: room for the y-axis labels beside the points
        h = _half_width(1.6, y)
        return split(X, y.astype(np.float64), "regression", 0, config.ratio, rng,
                     extent=(-np.pi - 0.6, np.pi + 0.6, -h, h))
    h = _half_width(4.0 if config.dataset == "linear" else PLANE, X)
    return split(X, y, "binary" if classes == 2 else "multiclass", classes, config.ratio, rng,
                 extent=(-h, h, -h, h))


def _half_width(default: float, values) -> float:
    """The plot's half-width: ``default``, or wider to show every point (high noise)."""
    return max(default, 1.05 * float(np.abs(values).max()))


def split(X, y, task, classes, ratio, rng, extent=None) -> PlaygroundData:
    """Shuffle with ``rng`` and keep ``ratio`` percent for training (at least one point each side)."""
    order = rng.permutation(X.shape[0])
    n_train = min(max(1, round(X.shape[0] * ratio / 100)), X.shape[0] - 1)
    tr, te = order[:n_train], order[n_train:]
    if extent is None:
        extent = (-PLANE, PLANE, -PLANE, PLANE)
    return PlaygroundData(X[tr], y[tr], X[te], y[te], task, classes, tuple(float(v) for v in extent))


# -- the user's CSV -------------------------------------------------------------------------
@dataclass
class Upload:
    """A parsed CSV: two feature columns (standardised) and one target column."""

    X: np.ndarray
    target: np.ndarray
    filename: str
    header: list | None

    def summary(self) -> dict:
        labels = np.unique(self.target)
        return {
            "filename": self.filename, "rows": int(self.X.shape[0]), "header": self.header,
            "distinct_targets": int(labels.size), "classification_ok": classification_error(self.target) is None,
        }

    def to_data(self, problem: str, ratio: int, seed: int) -> PlaygroundData:
        """Split for training; classification labels checked and made 0..K-1."""
        rng = np.random.default_rng(seed)
        if problem == "regression":
            return split(self.X, self.target.astype(np.float64), "regression", 0, ratio, rng,
                         extent=_plane_extent(self.X))
        problem_text = classification_error(self.target)
        if problem_text:
            raise ValueError(problem_text)
        labels = self.target.astype(np.int64)
        if labels.min() == -1:
            labels = (labels > 0).astype(np.int64)
        classes = int(labels.max()) + 1
        return split(self.X, labels, "binary" if classes == 2 else "multiclass", classes, ratio, rng,
                     extent=_plane_extent(self.X))


def _plane_extent(X) -> tuple:
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def classification_error(target: np.ndarray) -> str | None:
    """Why ``target`` cannot be class labels (None when it can): integers 0..K-1 with K in
    2-4, every class present (-1/+1 is read as 0/1)."""
    if not np.all(target == np.round(target)):
        return "the label column has non-integer values; classification needs labels 0, 1 (up to 3), or choose regression"
    low, high = float(target.min()), float(target.max())
    if low < -1 or high > 3:  # before any conversion to integers: 1e20 would overflow int64
        return f"class labels must be 0-3 (or -1/+1); the file has labels from {low:g} to {high:g}"
    labels = np.unique(target.astype(np.int64))
    if labels.tolist() == [-1, 1]:
        return None
    if labels.min() < 0:
        return f"class labels must be 0-3 (or -1/+1); the file has labels from {labels.min()} to {labels.max()}"
    if labels.size < 2:
        return f"the file has only class {labels[0]}; classification needs at least two classes"
    missing = sorted(set(range(int(labels.max()) + 1)) - set(labels.tolist()))
    if missing:
        return f"class labels must run 0..K-1 without gaps; label {missing[0]} is missing"
    return None


def parse_csv(raw: bytes, filename: str = "upload.csv") -> Upload:
    """Read the user's CSV: columns ``x1, x2, label`` (an optional header row), comma,
    semicolon or tab separated, at most ``MAX_UPLOAD_BYTES`` and ``MAX_UPLOAD_ROWS``.

    The two feature columns are standardised (mean 0, standard deviation 1).

    Raises
    ------
    ValueError
        Anything wrong with the file, naming the row and the value where there is one.
    """
    if not isinstance(raw, (bytes, bytearray)):
        raise TypeError("the upload must be bytes")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file is {len(raw):,} bytes; the limit is {MAX_UPLOAD_BYTES:,} bytes")
    if not raw.strip():
        raise ValueError("the file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not UTF-8 text (byte {exc.start} cannot be decoded); upload a CSV file") from None
    if "\x00" in text:
        raise ValueError("the file contains NUL bytes; upload a plain-text CSV file")
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac line endings
    sample = text[:4096]
    delimiter = max([",", ";", "\t"], key=sample.count)
    # each row with the file's line number where it starts (blank lines and newlines inside
    # quoted cells count, as an editor counts them)
    rows, lines = [], []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        start = 1
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValueError(f"the CSV could not be read (line {reader.line_num}): {exc}") from None
    header = None
    if rows and not _numeric_row(rows[0]):
        header, rows, lines = [cell.strip()[:40] for cell in rows[0]], rows[1:], lines[1:]
    if len(rows) > MAX_UPLOAD_ROWS:
        raise ValueError(f"the file has {len(rows):,} data rows; the limit is {MAX_UPLOAD_ROWS:,}")
    if len(rows) < MIN_UPLOAD_ROWS:
        raise ValueError(f"the file has {len(rows)} data row(s); at least {MIN_UPLOAD_ROWS} are needed")
    values = np.empty((len(rows), 3))
    for i, row in enumerate(rows):
        line = lines[i]
        if len(row) != 3:
            raise ValueError(f"line {line} has {len(row)} column(s); expected 3 (x1, x2, label)")
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise ValueError(f"line {line}, column {j + 1}: {cell.strip()[:20]!r} is not a number") from None
            if not np.isfinite(values[i, j]):
                raise ValueError(f"line {line}, column {j + 1}: {cell.strip()[:20]!r} is not a finite number")
    X = values[:, :2]
    for j in range(2):
        if np.all(X[:, j] == X[0, j]):
            raise ValueError(f"column {j + 1} has the same value on every row; it carries no information")
    # standardise after dividing by the largest magnitude, so that neither squares of values
    # near 1e300 overflow nor those of values near 1e-300 vanish
    X = X / np.abs(X).max(axis=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    if not np.all(np.isfinite(X)) or np.any(np.abs(X.std(axis=0) - 1) > 1e-6):
        j = int(np.argmax(~np.isfinite(X).all(axis=0) | (np.abs(X.std(axis=0) - 1) > 1e-6)))
        raise ValueError(f"column {j + 1} could not be standardised (mean 0, standard deviation 1): its values, "
                         f"from {values[:, j].min():.6g} to {values[:, j].max():.6g}, differ too little for "
                         "double precision; rescale or shift the column")
    target = values[:, 2]
    big = float(np.abs(target).max())
    if big > MAX_TARGET:
        i = int(np.argmax(np.abs(target)))
        raise ValueError(f"line {lines[i]}, column 3: {target[i]:.6g} is too large a target "
                         f"(the limit is ±{MAX_TARGET:g}, where squared errors still fit a double); rescale the column")
    return Upload(X, target, str(filename)[:100], header)


def _numeric_row(row) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True
