"""scikit-learn estimators: the estimator-check suite, pipelines and search, label handling,
partial_fit / warm_start / sample_weight, parameter checks, and accuracy against scikit-learn's MLP."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import chainrule as cr
from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor
from chainrule.models import LinearRegressionGD, LinearSVMGD, LogisticRegressionGD


pytestmark = pytest.mark.usefixtures("one_blas_thread")


# Every check runs; the expected failures are below, each with its reason. (scikit-learn itself skips
# check_array_api_input unless SCIPY_ARRAY_API=1 is set: it names that reason when it does.)
CHECKED = [
    NeuralNetClassifier(epochs=30, random_state=0),
    NeuralNetClassifier(loss="hinge", epochs=30, random_state=0),
    NeuralNetRegressor(epochs=30, random_state=0),
    NeuralNetRegressor(hidden_layer_sizes=(16, 16), batch_norm=True, dropout=0.1, residual=True, epochs=40,
                       learning_rate=1e-2, random_state=0),
    NeuralNetClassifier(dtype="float32", epochs=30, random_state=0),
    NeuralNetRegressor(dtype="float32", epochs=30, random_state=0),
    LinearRegressionGD(epochs=100, random_state=0),
    LogisticRegressionGD(epochs=100, random_state=0),
    LinearSVMGD(epochs=100, random_state=0),
]




def expected_failures(estimator):
    """Checks an estimator fails by design, each with the reason."""
    if estimator.get_params().get("dtype") == "float32":
        reason = ("float32 trains with a rounding error of about 1e-7 per operation, the check's own rtol: "
                  "weighting a row and repeating it sum the same numbers in another order, so the two fits "
                  "agree to float32's precision (about 1e-6) but not to 1e-7")
        subset = ("a float32 matrix product rounds differently with the number of rows (BLAS picks other "
                  "kernels and blockings), by up to an ulp, about 1e-7 relative: the check's tolerance; it "
                  "passes or fails with the BLAS build and thread count")
        return {"check_sample_weight_equivalence_on_dense_data": reason,
                "check_sample_weight_equivalence_on_sparse_data": reason,
                "check_methods_subset_invariance": subset}
    if estimator.get_params().get("dropout") or estimator.get_params().get("batch_norm"):
        reason = ("dropout draws other masks, and batch norm other batch statistics, for repeated rows than "
                  "for weighted ones: the two fits differ by design")
        return {"check_sample_weight_equivalence_on_dense_data": reason,
                "check_sample_weight_equivalence_on_sparse_data": reason}
    return {}


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_array_api_check_with_dispatch_enabled():
    """The one check scikit-learn skips without SCIPY_ARRAY_API=1 (it must be set before SciPy
    is imported), run in a fresh interpreter with it set."""
    import os
    import subprocess
    import sys

    code = (
        "from sklearn.utils.estimator_checks import check_estimator\n"
        "from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor\n"
        "from chainrule.models import LinearSVMGD\n"
        "for est in [NeuralNetClassifier(epochs=5, random_state=0), NeuralNetRegressor(epochs=5, random_state=0),"
        " LinearSVMGD(epochs=20, random_state=0)]:\n"
        "    for r in check_estimator(est, on_fail=None):\n"
        "        if r['check_name'] == 'check_array_api_input':\n"
        "            print(type(est).__name__, r['status'], r['exception'])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "SCIPY_ARRAY_API": "1"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and all(" passed " in line for line in lines), result.stdout


def test_pipeline_grid_search_and_cross_validation():
    X, y = datasets.load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=200, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.85
    search = GridSearchCV(pipe, {"neuralnetclassifier__learning_rate": [1e-3, 1e-2]}, cv=3).fit(X, y)
    assert search.best_score_ > 0.9
    assert search.best_params_["neuralnetclassifier__learning_rate"] == 1e-2  # 200 epochs at 1e-3 underfit


def test_string_labels_binary_and_multiclass():
    X, y = datasets.load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=100, random_state=0).fit(X, names)
    assert set(clf.predict(X)) <= set(names) and clf.score(X, names) > 0.9
    assert clf.predict_proba(X).shape == (150, 3) and clf.network_.n_outputs == 3
    assert clf.network_.loss.name == "cross_entropy"
    labels = np.where(names != "setosa", "yes", "no")
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=50, random_state=0).fit(X, labels)
    assert clf.network_.n_outputs == 1 and clf.network_.loss.name == "bce"
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    assert list(clf.classes_) == ["no", "yes"] and clf.score(X, labels) == 1.0
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))


def test_binary_heads_bce_softmax_and_hinge():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    softmax = NeuralNetClassifier(loss="cross_entropy", hidden_layer_sizes=(8,), epochs=20, random_state=0).fit(X, y)
    assert softmax.network_.n_outputs == 2 and softmax.score(X, y) > 0.95
    hinge = NeuralNetClassifier(loss="hinge", hidden_layer_sizes=(8,), epochs=20, random_state=0).fit(X, y)
    assert not hasattr(hinge, "predict_proba") and hasattr(softmax, "predict_proba")
    margins = hinge.decision_function(X)
    assert margins.shape == (len(X),)
    np.testing.assert_array_equal(hinge.predict(X), hinge.classes_[(margins > 0).astype(int)])
    assert hinge.score(X, y) > 0.95
    with pytest.raises(ValueError, match="'bce' is for two classes but y has 3"):
        NeuralNetClassifier(loss="bce").fit(*datasets.load_iris(return_X_y=True))


def test_multi_output_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    Y = np.column_stack([X[:, 0] + X[:, 1], 100 * np.sin(X[:, 2]), X[:, 3] ** 2])
    reg = make_pipeline(StandardScaler(), NeuralNetRegressor(hidden_layer_sizes=(32, 32), learning_rate=1e-2,
                                                             epochs=150, random_state=0))
    model = TransformedTargetRegressor(regressor=reg, transformer=StandardScaler()).fit(X, Y)
    assert model.predict(X).shape == (300, 3) and model.score(X, Y) > 0.9
    single = NeuralNetRegressor(epochs=5, random_state=0).fit(X, Y[:, :1])
    assert single.predict(X).shape == (300, 1) and single.n_outputs_ == 1


def test_partial_fit_warm_start_and_curves():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    for _ in range(5):
        clf.partial_fit(X, y, classes=[0, 1])
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 5 and clf.loss_curve_[-1] < clf.loss_curve_[0]
    with pytest.raises(ValueError, match="differ from those of the first call"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"labels \[7\] not in classes"):
        clf.partial_fit(X[:3], [0, 1, 7])

    warm = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=3, warm_start=True, random_state=0)
    warm.fit(X, y)
    first, loss_after_3 = warm.network_, warm.loss_curve_[-1]
    warm.fit(X, y)
    assert warm.network_ is first and warm.n_iter_ == 6 and warm.loss_curve_[-1] < loss_after_3
    with pytest.raises(ValueError, match="warm_start needs the classes of the previous fit"):
        warm.fit(X, np.where(y == 1, "a", "b"))
    cold = clone(warm).set_params(warm_start=False).fit(X, y)
    assert cold.n_iter_ == 3

    stopped = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=300, early_stopping=True, patience=5,
                                  random_state=0).fit(X, y)
    assert stopped.n_iter_ < 300 and len(stopped.validation_scores_) == stopped.n_iter_
    kept = stopped.network_.history.best_epoch  # the lowest validation loss, whose weights it keeps
    assert stopped.best_validation_score_ == stopped.validation_scores_[kept] > 0.9
    assert NeuralNetClassifier(epochs=2, random_state=0).fit(X, y).best_validation_score_ is None


def test_regressor_partial_fit_and_warm_start_checks():
    X, y = datasets.make_regression(n_samples=120, n_features=3, noise=1.0, random_state=0)
    y = y / y.std()
    reg = NeuralNetRegressor(hidden_layer_sizes=(8,), learning_rate=1e-2, random_state=0)
    for _ in range(20):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 20 and reg.loss_curve_[-1] < reg.loss_curve_[0]
    with pytest.raises(ValueError, match="y has 2 target"):
        reg.partial_fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="X has 2 features"):
        reg.partial_fit(X[:, :2], y)
    warm = NeuralNetRegressor(epochs=2, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="warm_start needs 1 target"):
        warm.fit(X, np.column_stack([y, y]))


def test_sample_weight_is_honoured():
    X, y = datasets.make_classification(n_samples=200, n_features=5, random_state=0)
    w = np.ones(200)
    w[y == 1] = 0.0  # class 1 carries no weight: the model learns to say 0
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=50, random_state=0).fit(X, y, sample_weight=w)
    assert (clf.predict(X) == 0).mean() > 0.9
    # full batch: integer weights are the same as repeating the rows
    counts = np.random.default_rng(0).integers(1, 4, size=200)
    params = {"hidden_layer_sizes": (6,), "batch_size": None, "epochs": 40, "learning_rate": 1e-2, "random_state": 0}
    weighted = NeuralNetRegressor(**params).fit(X, X[:, 0], sample_weight=counts)
    repeated = NeuralNetRegressor(**params).fit(np.repeat(X, counts, axis=0), np.repeat(X[:, 0], counts))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="sample_weight must be >= 0"):
        NeuralNetRegressor(epochs=1).fit(X, X[:, 0], sample_weight=-np.ones(200))


def test_float32_pandas_and_random_states():
    X, y = datasets.load_iris(return_X_y=True, as_frame=True)
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), dtype="float32", epochs=20,
                              random_state=np.random.RandomState(0)).fit(X, y)
    # answers in the wider of the network's and the input's dtype (float64 X: float64 answers)
    assert clf.network_.dtype == np.float32 and clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float64
    assert list(clf.feature_names_in_) == list(X.columns)
    same = [NeuralNetClassifier(epochs=5, random_state=3).fit(X, y).predict_proba(X) for _ in range(2)]
    np.testing.assert_array_equal(*same)
    other = NeuralNetClassifier(epochs=5, random_state=4).fit(X, y).predict_proba(X)
    assert not np.array_equal(same[0], other)
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X.to_numpy())


@pytest.mark.parametrize("params, error, message", [
    ({"hidden_layer_sizes": (0,)}, ValueError, "hidden_layer_sizes must be positive"),
    ({"hidden_layer_sizes": "32"}, TypeError, "hidden_layer_sizes must be a tuple"),
    ({"epochs": 0}, ValueError, "epochs must be > 0"),
    ({"epochs": 2.5}, TypeError, "epochs must be an integer"),
    ({"activation": "swish"}, ValueError, "unknown activation 'swish'"),
    ({"optimizer": "lbfgs"}, ValueError, "unknown optimizer 'lbfgs'"),
    ({"init": "zeros"}, ValueError, "unknown initialiser 'zeros'"),
    ({"loss": "mse"}, ValueError, "loss 'mse' is a regression loss"),
    ({"learning_rate": -1}, ValueError, "learning_rate must be > 0"),
    ({"batch_size": 0}, ValueError, "batch_size must be > 0"),
    ({"early_stopping": True, "validation_fraction": 0.0}, ValueError, "validation_fraction must be in"),
    ({"l2": -0.1}, ValueError, "l2 must be >= 0"),
    ({"dropout": 1.0}, ValueError, "dropout must be in"),
    ({"dtype": "float16"}, ValueError, "dtype must be one of"),
    ({"device": "tpu"}, ValueError, "unknown device 'tpu'"),
    ({"verbose": 5}, ValueError, "verbose must be 0, 1 or 2"),
    ({"random_state": "seed"}, TypeError, "random_state must be"),
    ({"warm_start": "yes"}, TypeError, "warm_start must be True or False"),
])
def test_bad_parameters_are_named_before_training(params, error, message):
    X, y = datasets.load_iris(return_X_y=True)
    with pytest.raises(error, match=message):
        NeuralNetClassifier(**params).fit(X, y)


def test_bad_input_gets_clear_errors():
    X, y = datasets.load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="NaN"):
        NeuralNetClassifier().fit(np.where(X > 7, np.nan, X), y)
    with pytest.raises(ValueError, match="'bce' is a classification loss"):
        NeuralNetRegressor(loss="bce").fit(X, y)
    with pytest.raises(ValueError, match="squared error overflows float64"):
        NeuralNetRegressor().fit(X, np.full(150, 1e200))
    with pytest.raises(ValueError, match="needs at least 2 classes"):
        NeuralNetClassifier().fit(X, np.zeros(150))
    with pytest.raises(ValueError, match="Unknown label type"):
        NeuralNetClassifier().fit(X, X[:, 0] + 0.5)


# scikit-learn's alpha adds alpha·W/batch_size to the gradient of its loss: the same L2 is
# l2 = alpha / batch_size for the classifier (log-loss on both sides) and 2·alpha / batch_size for
# the regressor (scikit-learn's loss is half the mean squared error, chainrule's the whole)
COMPARABLE = {"hidden_layer_sizes": (64,), "init": "glorot_uniform", "batch_size": 200, "l2": 1e-4 / 200, "epochs": 500}
SKLEARN = {"hidden_layer_sizes": (64,), "batch_size": 200, "alpha": 1e-4, "max_iter": 500}


@pytest.mark.parametrize("name", ["breast_cancer", "digits", "iris", "wine", "diabetes"])
def test_within_one_point_of_scikit_learn_mlp(name):
    """Same split, architecture, optimizer (Adam), batch size, L2 and epochs; scores averaged
    over seeds (one for digits, to keep the suite fast)."""
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    regression = name == "diabetes"
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=None if regression else y)
    ours_scores, theirs_scores = [], []
    for seed in range(1 if name == "digits" else 3):
        if regression:
            ours = NeuralNetRegressor(learning_rate=1e-2, random_state=seed, **{**COMPARABLE, "l2": 2e-4 / 200})
            theirs = MLPRegressor(learning_rate_init=1e-2, random_state=seed, **SKLEARN)
        else:
            ours = NeuralNetClassifier(random_state=seed, **COMPARABLE)
            theirs = MLPClassifier(random_state=seed, **SKLEARN)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn's convergence warnings
            ours_scores.append(make_pipeline(StandardScaler(), ours).fit(X_train, y_train).score(X_test, y_test))
            theirs_scores.append(make_pipeline(StandardScaler(), theirs).fit(X_train, y_train).score(X_test, y_test))
    ours_score, theirs_score = np.mean(ours_scores), np.mean(theirs_scores)
    print(f"{name}: chainrule {ours_score:.4f}, scikit-learn {theirs_score:.4f}")
    assert ours_score >= theirs_score - 0.01, (ours_score, theirs_score)


def test_deep_network_options_in_the_estimators(tmp_path):
    """The extension point for deep-network layers: batch norm, dropout and residual blocks
    reach the network, train, and survive a save/load of the estimator."""
    import chainrule as cr

    X, y = datasets.load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    clf = NeuralNetClassifier(hidden_layer_sizes=(32, 32, 32), batch_norm=True, dropout=0.1, residual=True,
                              epochs=15, batch_size=64, random_state=0).fit(X_train, y_train)
    kinds = {type(layer).__name__ for layer in clf.network_.layers}
    assert {"BatchNorm", "Dropout", "Residual"} <= kinds
    assert clf.score(X_test, y_test) > 0.9
    clf.save(tmp_path / "deep.chainrule")
    loaded = cr.load(tmp_path / "deep.chainrule")
    assert isinstance(loaded, NeuralNetClassifier) and loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test))


def test_pandas_series_labels_and_dataframe_round_trip():
    frame = pd.DataFrame(datasets.load_wine().data[:, :4], columns=["a", "b", "c", "d"])
    labels = pd.Series(np.array(["x", "y", "z"])[datasets.load_wine().target])
    clf = make_pipeline(StandardScaler(), NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=60, random_state=0))
    clf.fit(frame, labels)
    assert clf.score(frame, labels) > 0.8 and clf.predict(frame.iloc[:2]).dtype.kind in "OU"


@pytest.mark.gpu
def test_estimators_and_model_files_on_the_gpu(tmp_path):
    """device="cuda": float32 by default, the same fit as on the CPU (in float64 when asked),
    and a GPU-trained model file loads on the CPU, or on the GPU when asked."""
    pytest.importorskip("cupy")
    import chainrule as cr
    from chainrule import backend

    if not backend.gpu_available():
        pytest.skip("no CUDA GPU visible to CuPy")
    X, y = datasets.load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = {"hidden_layer_sizes": (16,), "epochs": 30, "random_state": 0}
    cpu64 = NeuralNetClassifier(**params).fit(X, y)
    gpu64 = NeuralNetClassifier(device="cuda", dtype="float64", **params).fit(X, y)
    assert gpu64.network_.dtype == np.float64
    np.testing.assert_allclose(gpu64.predict_proba(X), cpu64.predict_proba(X), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gpu64.loss_curve_, cpu64.loss_curve_, rtol=1e-7)

    gpu = NeuralNetClassifier(device="cuda", **params).fit(X, y)  # dtype=None: float32 on a GPU
    assert gpu.network_.device == "cuda" and gpu.network_.dtype == np.float32 and gpu.get_params()["dtype"] is None
    proba = gpu.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.dtype == np.float32
    cpu32 = NeuralNetClassifier(dtype="float32", **params).fit(X, y)
    np.testing.assert_allclose(proba, cpu32.predict_proba(X), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(gpu.loss_curve_, cpu32.loss_curve_, rtol=1e-4)

    path = gpu.save(tmp_path / "gpu.chainrule")
    loaded = cr.load(path)  # on the CPU, still float32, and its parameters say so
    assert loaded.network_.device == "cpu" and loaded.network_.dtype == np.float32
    assert (loaded.get_params()["device"], loaded.get_params()["dtype"]) == ("cpu", "float32")
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=1e-5, atol=1e-6)
    loaded.partial_fit(X, y)
    on_gpu = cr.load(path, device="cuda")
    assert on_gpu.network_.device == "cuda" and on_gpu.get_params()["device"] == "cuda"
    np.testing.assert_allclose(on_gpu.predict_proba(X), proba, rtol=1e-6, atol=1e-7)
    on_gpu.partial_fit(X, y)
    assert on_gpu.network_.device == "cuda"

    reg = NeuralNetRegressor(device="cuda", learning_rate=1e-2, epochs=100, random_state=0)
    assert reg.fit(X[:, :3], X[:, 3]).score(X[:, :3], X[:, 3]) > 0.8
    assert reg.network_.dtype == np.float32

    # the command line on the GPU: train, plots, and the model file read back on the CPU
    from chainrule.cli import main

    table = tmp_path / "iris.csv"
    pd.DataFrame(X, columns=list("abcd")).assign(kind=np.array(["x", "y", "z"])[y]).to_csv(table, index=False)
    assert main(["train", "--data", str(table), "--target", "kind", "--device", "cuda", "--epochs", "50", "--quiet",
                 "--save", str(tmp_path / "cli.chainrule"), "--plots", str(tmp_path / "plots")]) == 0
    assert (tmp_path / "plots" / "network.png").exists()
    assert main(["evaluate", str(tmp_path / "cli.chainrule"), str(table)]) == 0


# -- dtype=None: the device's default dtype ------------------------------------------------------------
@pytest.mark.parametrize("make", [NeuralNetClassifier, NeuralNetRegressor, LinearRegressionGD, LogisticRegressionGD,
                                  LinearSVMGD])
def test_the_default_dtype_is_the_devices_and_stays_none(make):
    estimator = make()
    assert estimator.dtype is None  # float64 on the CPU, float32 on a GPU (tests/fakecupy/flows.py)
    if "dtype" in estimator.get_params():
        assert estimator.get_params()["dtype"] is None and clone(estimator).get_params()["dtype"] is None
    X, y = datasets.load_iris(return_X_y=True)
    fitted = make(epochs=2, random_state=0).fit(X, y)
    assert fitted.network_.dtype == np.float64 and fitted.dtype is None


def test_the_default_dtype_trains_as_float64_did_on_the_cpu():
    X, y = datasets.load_iris(return_X_y=True)
    params = {"hidden_layer_sizes": (8,), "epochs": 5, "random_state": 0}
    default = NeuralNetClassifier(**params).fit(X, y)
    explicit = NeuralNetClassifier(dtype="float64", **params).fit(X, y)
    np.testing.assert_array_equal(default.predict_proba(X), explicit.predict_proba(X))
    assert default.loss_curve_ == explicit.loss_curve_
    # None and the dtype it means are the same network: continuing is no change either way
    explicit.set_params(dtype=None, warm_start=True).fit(X, y)
    default.set_params(dtype="float64", warm_start=True).fit(X, y)
    assert explicit.n_iter_ == default.n_iter_ == 10
    with pytest.raises(ValueError, match=r"dtype \('float64' -> 'float32'\) changed"):
        default.set_params(dtype="float32").fit(X, y)
    with pytest.raises(ValueError, match="squared error overflows float32"):  # the limit of the dtype trained in
        NeuralNetRegressor(dtype="float32").fit(X, np.full(150, 1e30))


# -- predictions follow the loss the network was fitted with -------------------------------------------
def test_predictions_follow_the_fitted_loss_not_a_loss_set_since():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=10, random_state=0).fit(X, y)  # bce
    proba, labels = clf.predict_proba(X), clf.predict(X)
    assert 0.1 < labels.mean() < 0.9
    clf.set_params(loss="hinge")  # applies to the next new network
    assert hasattr(clf, "predict_proba") and not hasattr(clf, "decision_function")
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    np.testing.assert_array_equal(clf.predict(X), labels)

    clf.fit(X, y)  # a new network, with the hinge loss
    assert hasattr(clf, "decision_function") and not hasattr(clf, "predict_proba")
    margins, labels = clf.decision_function(X), clf.predict(X)
    assert 0.1 < labels.mean() < 0.9
    clf.set_params(loss=None)
    assert hasattr(clf, "decision_function") and not hasattr(clf, "predict_proba")
    np.testing.assert_array_equal(clf.decision_function(X), margins)
    np.testing.assert_array_equal(clf.predict(X), labels)
    assert hasattr(clone(clf), "predict_proba")  # unfitted, the parameter decides
    assert not hasattr(NeuralNetClassifier(loss="hinge"), "predict_proba")


def test_a_diverging_fit_raises_and_keeps_usable_weights():
    X, y = datasets.load_iris(return_X_y=True)
    clf = NeuralNetClassifier(learning_rate=1e6, optimizer="sgd", random_state=0)
    with pytest.raises(cr.DivergenceError, match=r"epoch 1: .* over 1000× that of the weights training began from"):
        clf.fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()  # the initial weights, not the blown-up ones
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(100, 3))
    reg = NeuralNetRegressor(learning_rate=1e4, optimizer="sgd", batch_size=None, random_state=0)
    with pytest.raises(cr.DivergenceError, match="over 1000× the first epoch.s"):
        reg.fit(Xr, Xr @ [1.0, 2.0, 3.0])
    assert np.abs(reg.predict(Xr)).max() < 100


def test_early_stopping_names_validation_fraction_when_too_few_samples():
    X = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(ValueError, match=r"validation_fraction=0.1 of n_samples=5, i.e. 1 validation and 4 "
                                         r"training samples; it needs at least 2 validation samples"):
        NeuralNetRegressor(early_stopping=True).fit(X, X[:, 0])
