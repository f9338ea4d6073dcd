"""The estimators where they follow (or knowingly differ from) scikit-learn's MLP: loss names,
warm starts, early stopping and its validation split, partial_fit, targets and sample weights."""

import numpy as np
import pytest
from sklearn import datasets
from sklearn.preprocessing import StandardScaler

from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor


pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def binary():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def iris():
    X, y = datasets.load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# -- loss names: every name the parameter check accepts means the same loss ----------------------
@pytest.mark.parametrize("alias", ["Hinge", "HINGE", "svm"])
def test_hinge_aliases_train_the_hinge_classifier(alias, binary, iris):
    for X, y in (binary, iris):
        params = {"hidden_layer_sizes": (8,), "epochs": 5, "random_state": 0}
        ref = NeuralNetClassifier(loss="hinge", **params).fit(X, y)
        clf = NeuralNetClassifier(loss=alias, **params).fit(X, y)
        assert not hasattr(clf, "predict_proba") and hasattr(clf, "decision_function")
        np.testing.assert_array_equal(clf.decision_function(X), ref.decision_function(X))


@pytest.mark.parametrize("alias", ["ce", "CE", "cross-entropy", "Cross_Entropy", "categorical_cross_entropy"])
def test_cross_entropy_aliases_give_the_softmax_head_for_two_classes(alias, binary):
    X, y = binary
    params = {"hidden_layer_sizes": (8,), "epochs": 3, "random_state": 0}
    ref = NeuralNetClassifier(loss="cross_entropy", **params).fit(X, y)
    clf = NeuralNetClassifier(loss=alias, **params).fit(X, y)
    assert clf.network_.n_outputs == 2
    np.testing.assert_array_equal(clf.predict_proba(X), ref.predict_proba(X))


@pytest.mark.parametrize("alias", ["BCE", "bce", "binary_crossentropy"])
def test_binary_loss_aliases_refuse_three_classes_by_name(alias, iris):
    X, y = iris
    with pytest.raises(ValueError, match=f"loss '{alias}' is for two classes but y has 3"):
        NeuralNetClassifier(loss=alias, epochs=2).fit(X, y)


@pytest.mark.parametrize("alias", ["log_loss", "Log_Loss"])
def test_log_loss_is_scikit_learns_log_loss_for_any_number_of_classes(alias, binary, iris):
    """scikit-learn's "log_loss" is the multi-class log loss: BCE for two classes, softmax
    cross-entropy for more, exactly as loss=None."""
    params = {"hidden_layer_sizes": (8,), "epochs": 3, "random_state": 0}
    for (X, y), name in ((binary, "bce"), (iris, "cross_entropy")):
        clf = NeuralNetClassifier(loss=alias, **params).fit(X, y)
        ref = NeuralNetClassifier(**params).fit(X, y)
        assert clf.network_.loss.name == name
        np.testing.assert_array_equal(clf.predict_proba(X), ref.predict_proba(X))


def test_regression_loss_aliases(iris):
    X, y = iris
    reg = NeuralNetRegressor(loss="MEAN_SQUARED_ERROR", epochs=2, random_state=0).fit(X, y)
    assert reg._loss_name() == "mse" and reg.network_.loss.name == "mse"


def test_an_aliased_loss_survives_a_model_file(binary, tmp_path):
    import chainrule as cr

    X, y = binary
    clf = NeuralNetClassifier(loss="Hinge", hidden_layer_sizes=(8,), epochs=5, random_state=0).fit(X, y)
    loaded = cr.load(clf.save(tmp_path / "hinge.chainrule"))
    assert loaded.get_params()["loss"] == "Hinge" and not hasattr(loaded, "predict_proba")
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


# -- validation_fraction: checked at every fit, as scikit-learn's parameter validation does ------
@pytest.mark.parametrize("value, error", [(1.0, ValueError), (1.5, ValueError), (-0.1, ValueError),
                                          ("0.1", TypeError), (None, TypeError)])
def test_validation_fraction_is_checked_without_early_stopping(value, error, iris):
    X, y = iris
    with pytest.raises(error, match="validation_fraction must be"):
        NeuralNetClassifier(validation_fraction=value, epochs=1).fit(X, y)
    with pytest.raises(error, match="validation_fraction must be"):
        NeuralNetRegressor(validation_fraction=value).partial_fit(X, y)


def test_validation_fraction_zero_is_refused_only_with_early_stopping(iris):
    X, y = iris
    assert NeuralNetClassifier(validation_fraction=0.0, epochs=1).fit(X, y).n_iter_ == 1  # as MLPClassifier
    with pytest.raises(ValueError, match=r"validation_fraction must be in \(0, 1\) with early stopping"):
        NeuralNetClassifier(validation_fraction=0.0, early_stopping=True).fit(X, y)


# -- partial_fit and early stopping: refused, as scikit-learn's MLP refuses it ---------------------
def test_partial_fit_refuses_early_stopping_before_any_work(iris):
    X, y = iris
    clf = NeuralNetClassifier(early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        clf.partial_fit(X[:4], y[:4], classes=[0, 1, 2])
    assert not hasattr(clf, "network_")
    reg = NeuralNetRegressor(early_stopping=True, epochs=3, random_state=0).fit(X, y)
    before = reg.network_.get_weights()
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        reg.partial_fit(X, y)
    assert reg.n_iter_ <= 3
    for a, b in zip(reg.network_.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    clf.set_params(early_stopping=False)
    for start in range(0, 12, 4):  # batches of 4 rows: nothing is held out
        clf.partial_fit(X[start:start + 4], y[start:start + 4], classes=[0, 1, 2])
    assert clf.n_iter_ == 3 and clf.validation_scores_ == [] and clf.best_validation_score_ is None


# -- early stopping's validation split -------------------------------------------------------------
@pytest.fixture
def engine_fits(monkeypatch):
    """The (X, y, keyword arguments) of every Sequential.fit the estimators make."""
    from chainrule.network import Sequential

    calls, original = [], Sequential.fit

    def spy(self, X, y, **kwargs):
        calls.append((X, y, kwargs))
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(Sequential, "fit", spy)
    return calls


def rows_with_ids(n_samples, n_features=3, seed=0):
    """Random features whose first column is the row number, so a split can be traced."""
    X = np.random.default_rng(seed).normal(size=(n_samples, n_features))
    X[:, 0] = np.arange(n_samples)
    return X


@pytest.mark.parametrize("seed", range(5))
def test_the_classifier_validation_split_is_stratified(seed, engine_fits):
    X = rows_with_ids(100)
    y = np.where(np.arange(100) < 10, "rare", "common")  # 10% of one class
    NeuralNetClassifier(early_stopping=True, validation_fraction=0.2, epochs=2, random_state=seed).fit(X, y)
    (X_train, _, kwargs), = engine_fits
    X_val, y_val = kwargs["validation_data"]
    assert len(X_val) == 20 and len(X_train) == 80
    assert np.bincount(np.asarray(y_val, dtype=int)).tolist() == [18, 2]  # classes_ = [common, rare]
    assert sorted(np.r_[X_train[:, 0], X_val[:, 0]]) == list(range(100))


def test_a_class_too_small_to_stratify_gives_a_plain_split(engine_fits):
    X = rows_with_ids(40)
    y = np.r_[np.zeros(39, dtype=int), 1]  # one sample of class 1: it cannot be in both parts
    clf = NeuralNetClassifier(early_stopping=True, validation_fraction=0.25, epochs=2, random_state=0).fit(X, y)
    assert clf.n_iter_ == 2 and len(engine_fits[0][2]["validation_data"][0]) == 10


def test_sample_weights_are_split_with_the_rows(engine_fits):
    X = rows_with_ids(60)
    w = np.arange(60) % 5 + 1.0
    NeuralNetRegressor(early_stopping=True, validation_fraction=0.25, epochs=2, random_state=0).fit(
        X, X[:, 1], sample_weight=w)
    (X_train, _, kwargs), = engine_fits
    ids = X_train[:, 0].astype(int)
    assert len(ids) == 45 and len(kwargs["validation_data"][0]) == 15
    np.testing.assert_array_equal(kwargs["sample_weight"], w[ids])


@pytest.mark.parametrize("n_samples, fraction, n_val", [(10, 0.1, 1), (5, 0.1, 1), (30, 0.01, 1)])
def test_early_stopping_needs_two_validation_samples(n_samples, fraction, n_val):
    X = rows_with_ids(n_samples)
    reg = NeuralNetRegressor(early_stopping=True, validation_fraction=fraction)
    with pytest.raises(ValueError, match=rf"validation_fraction={fraction} of n_samples={n_samples}, i.e. {n_val} "
                                         r"validation .* at least 2 validation samples"):
        reg.fit(X, X[:, 1])
    assert not hasattr(reg, "network_")


# -- validation scores: the kept epoch's, and aligned with loss_curve_ ------------------------------
@pytest.fixture(scope="module")
def digits():
    X, y = datasets.load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("seed", [0, 1])
def test_best_validation_score_is_the_kept_epochs(seed, digits):
    """Early stopping keeps the epoch with the lowest validation loss, which need not have the
    highest validation accuracy (for these seeds it has not)."""
    X, y = digits
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), learning_rate=1e-2, early_stopping=True, patience=3,
                              validation_fraction=0.2, epochs=200, random_state=seed).fit(X, y)
    history = clf.network_.history
    kept = int(np.argmin(history.val_loss))
    assert history.best_epoch == kept < clf.n_iter_ - 1
    assert clf.best_validation_score_ == clf.validation_scores_[kept] < max(clf.validation_scores_)


def test_validation_scores_stay_aligned_with_the_loss_curve_across_warm_fits(iris):
    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=4, warm_start=True, random_state=0).fit(X, y)
    assert clf.validation_scores_ == [] and clf.best_validation_score_ is None
    clf.set_params(early_stopping=True, patience=50, epochs=5).fit(X, y)
    scores = np.array(clf.validation_scores_)
    assert len(scores) == len(clf.loss_curve_) == clf.n_iter_ == 9
    assert np.isnan(scores[:4]).all() and np.isfinite(scores[4:]).all()
    kept = 4 + clf.network_.history.best_epoch
    assert clf.best_validation_score_ == scores[kept]
    clf.set_params(early_stopping=False, epochs=2).fit(X, y)  # weights no early stopping chose
    assert len(clf.validation_scores_) == len(clf.loss_curve_) == 11 and np.isnan(clf.validation_scores_[-2:]).all()
    assert clf.best_validation_score_ is None
    clf.partial_fit(X, y)
    assert len(clf.validation_scores_) == 12 and clf.best_validation_score_ is None


def shuffled(y):
    return np.random.default_rng(0).permutation(y)


def test_a_second_early_stopped_fit_reports_its_own_best(iris):
    """The second warm fit learns labels with no relation to X: its kept epoch scores far below
    the first fit's best, which is no longer the network's."""
    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), learning_rate=1e-2, early_stopping=True, patience=2,
                              epochs=30, warm_start=True, random_state=0).fit(X, y)
    first = clf.n_iter_
    clf.fit(X, shuffled(y))
    second = clf.validation_scores_[first:]
    assert clf.best_validation_score_ == second[clf.network_.history.best_epoch] < max(clf.validation_scores_)


def test_model_files_keep_the_best_score_and_the_gaps(iris, tmp_path):
    import chainrule as cr

    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), learning_rate=1e-2, epochs=3, warm_start=True,
                              random_state=0).fit(X, y)
    clf.set_params(early_stopping=True, epochs=20).fit(X, y)
    clf.fit(X, shuffled(y))
    assert clf.best_validation_score_ < np.nanmax(clf.validation_scores_)
    loaded = cr.load(clf.save(tmp_path / "es.chainrule"))
    assert loaded.best_validation_score_ == clf.best_validation_score_
    np.testing.assert_array_equal(loaded.validation_scores_, clf.validation_scores_)  # NaN where no validation


# -- continuing a network: new training settings apply, a different network is refused --------------
def test_a_warm_fit_applies_a_new_learning_rate_and_keeps_the_moments(iris):
    X, y = iris
    params = {"hidden_layer_sizes": (8,), "epochs": 5, "warm_start": True, "random_state": 0}
    changed = NeuralNetClassifier(learning_rate=1e-3, **params).fit(X, y)
    same = NeuralNetClassifier(learning_rate=1e-3, **params).fit(X, y)
    optimizer, steps = changed._optimizer, changed._optimizer.iterations
    changed.set_params(learning_rate=0.5).fit(X, y)
    same.fit(X, y)
    assert changed._optimizer is optimizer and optimizer.lr == 0.5
    assert optimizer.iterations == 2 * steps  # Adam's moments and step count carried on
    assert not np.allclose(changed.predict_proba(X), same.predict_proba(X))
    assert same._optimizer.lr == 1e-3


def test_a_warm_fit_builds_the_optimizer_it_is_now_given(iris):
    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=3, warm_start=True, random_state=0).fit(X, y)
    adam = clf._optimizer
    clf.set_params(optimizer="ADAM").fit(X, y)  # another spelling of the same optimizer
    assert clf._optimizer is adam
    clf.set_params(optimizer="sgd", learning_rate=0.05).fit(X, y)
    assert type(clf._optimizer).__name__ == "SGD" and clf._optimizer.lr == 0.05 and clf._optimizer.iterations > 0
    assert clf.n_iter_ == 9


def test_partial_fit_applies_a_new_learning_rate_and_checks_it(iris):
    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    clf.set_params(learning_rate=0.2).partial_fit(X, y)
    assert clf._optimizer.lr == 0.2
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        clf.set_params(learning_rate=-1).partial_fit(X, y)


NETWORK_CHANGES = [
    ({"hidden_layer_sizes": (4,)}, r"hidden_layer_sizes \(\(8,\) -> \(4,\)\)"),
    ({"activation": "tanh"}, r"activation \('relu' -> 'tanh'\)"),
    ({"init": "normal"}, r"init \(None -> 'normal'\)"),
    ({"loss": "hinge"}, r"loss \('bce' -> 'hinge'\)"),
    ({"loss": "ce"}, r"loss \('bce' -> 'cross_entropy'\)"),
    ({"batch_norm": True}, r"batch_norm \(False -> True\)"),
    ({"dropout": 0.2}, r"dropout \(0.0 -> 0.2\)"),
    ({"residual": True}, r"residual \(False -> True\)"),
    ({"dtype": "float32"}, r"dtype \('float64' -> 'float32'\)"),
    # dtype=None means float32 on a GPU: the default dtype changes with the device
    ({"device": "cuda"}, r"dtype \('float64' -> 'float32'\), device \('cpu' -> 'cuda'\)"),
    ({"hidden_layer_sizes": (4,), "activation": "tanh"}, r"hidden_layer_sizes .*, activation \('relu' -> 'tanh'\)"),
]


@pytest.mark.parametrize("change, named", NETWORK_CHANGES)
def test_continuing_refuses_a_changed_network_before_any_work(change, named, binary):
    X, y = binary
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=2, warm_start=True, random_state=0).fit(X, y)
    weights, n_iter = clf.network_.get_weights(), clf.n_iter_
    clf.set_params(**change)
    with pytest.raises(ValueError, match=rf"warm_start=True continues the fitted network, but {named} changed "
                                         r"since it was built; set warm_start=False"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match=rf"partial_fit continues the fitted network, but {named} changed"):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == n_iter
    for a, b in zip(clf.network_.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    if "device" not in change:
        clf.set_params(warm_start=False).fit(X, y)  # a new network with the new parameters
        assert clf.n_iter_ == 2


def test_other_spellings_of_the_same_network_continue(binary):
    X, y = binary
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=2, warm_start=True, random_state=0).fit(X, y)
    clf.set_params(hidden_layer_sizes=8, activation="ReLU", loss="log_loss", dtype=np.float64, device="CPU")
    clf.fit(X, y)
    assert clf.n_iter_ == 4


def test_a_loaded_estimator_refuses_a_changed_network(iris, tmp_path):
    import chainrule as cr

    X, y = iris
    reg = NeuralNetRegressor(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
    loaded = cr.load(reg.save(tmp_path / "reg.chainrule"))
    loaded.partial_fit(X, y)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes \(\(8,\) -> \(3,\)\) changed"):
        loaded.set_params(hidden_layer_sizes=(3,)).partial_fit(X, y)


# -- the regressor's targets -------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_regressor_targets_must_be_dense_and_numeric(method, iris):
    import scipy.sparse as sp

    X, y = iris
    reg = NeuralNetRegressor(epochs=1)
    for sparse in (sp.csr_matrix(np.c_[y, y]), sp.csr_array(y[:, None])):
        with pytest.raises(TypeError, match="y must be a dense array"):
            getattr(reg, method)(X, sparse)
    for text in (y.astype(str), y.astype(bytes)):
        with pytest.raises(ValueError, match=rf"y must be numeric, got dtype {text.dtype}"):
            getattr(reg, method)(X, text)
    assert not hasattr(reg, "network_")
    assert getattr(reg, method)(X, y.astype(str).astype(object)).n_outputs_ == 1  # converted, as scikit-learn does


# -- sample weights and the prediction's shape ---------------------------------------------------------
@pytest.mark.parametrize("weight", [2.0, 3, np.float32(0.5)])
def test_a_scalar_sample_weight_weighs_every_sample_alike(weight, iris):
    X, y = iris
    params = {"hidden_layer_sizes": (8,), "epochs": 3, "random_state": 0}
    full = np.full(len(y), float(weight))
    clf = NeuralNetClassifier(**params).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(clf.predict_proba(X), NeuralNetClassifier(**params).fit(X, y, sample_weight=full)
                                  .predict_proba(X))
    reg = NeuralNetRegressor(**params).partial_fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(reg.predict(X), NeuralNetRegressor(**params).partial_fit(X, y, sample_weight=full)
                                  .predict(X))
    with pytest.raises(ValueError, match="sample_weight must be >= 0"):
        NeuralNetClassifier(**params).fit(X, y, sample_weight=-weight)


def test_the_prediction_shape_follows_the_latest_targets(iris):
    X, y = iris
    warm = NeuralNetRegressor(epochs=2, warm_start=True, random_state=0).fit(X, y[:, None])
    assert warm.predict(X).shape == (150, 1)
    assert warm.fit(X, y).predict(X).shape == (150,)
    assert warm.partial_fit(X, y[:, None]).predict(X).shape == (150, 1)
    assert warm.partial_fit(X, y).predict(X).shape == (150,)


# -- model files hold no optimizer state (documented) ----------------------------------------------
def test_a_loaded_estimator_continues_with_a_fresh_optimizer_a_pickled_one_does_not(iris, tmp_path):
    import pickle

    import chainrule as cr

    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), batch_size=None, epochs=4, random_state=0).fit(X, y)
    loaded, pickled = cr.load(clf.save(tmp_path / "clf.chainrule")), pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    loaded.partial_fit(X, y)
    pickled.partial_fit(X, y)
    assert loaded._optimizer.iterations == 1 and pickled._optimizer.iterations == 5  # full batch: a step an epoch
    assert not np.allclose(loaded.predict_proba(X), pickled.predict_proba(X))


def test_save_refuses_parameters_the_network_was_not_built_with(iris, tmp_path):
    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
    clf.set_params(hidden_layer_sizes=(4,), learning_rate=0.5)  # the learning rate describes no network
    with pytest.raises(ValueError, match=r"save writes get_params\(\) beside the fitted network, but "
                                         r"hidden_layer_sizes \(\(8,\) -> \(4,\)\) changed since it was built"):
        clf.save(tmp_path / "clf.chainrule")
    assert not (tmp_path / "clf.chainrule").exists()
    clf.set_params(hidden_layer_sizes=(8,)).save(tmp_path / "clf.chainrule")


def test_a_model_trained_on_the_gpu_loads_and_saves_again_on_the_cpu(iris, tmp_path):
    """Simulated: the record of a device="cuda" estimator with the default dtype (float32 on a
    GPU), loaded on the CPU: its parameters describe the network it holds (on the CPU, in
    float32), so it saves again and trains on there. (tests/fakecupy/flows.py does it with
    an estimator trained on the emulated GPU.)"""
    import chainrule as cr
    from chainrule import backend
    from chainrule.io import read_header

    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=2, dtype="float32", random_state=0).fit(X, y)
    clf._built_with["device"] = "cuda"
    clf.set_params(device="cuda", dtype=None)
    path = clf.save(tmp_path / "gpu.chainrule")
    assert read_header(path)["estimator"]["params"]["dtype"] is None
    loaded = cr.load(path)
    assert loaded.network_.device == "cpu" and loaded.network_.dtype == np.float32
    assert loaded.get_params()["device"] == "cpu" and loaded.get_params()["dtype"] == "float32"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    loaded.save(tmp_path / "again.chainrule")
    loaded.partial_fit(X, y)  # on the CPU, where the network is
    assert loaded.n_iter_ == 3
    if not backend.gpu_available():  # the emulated lane loads onto a (fake) GPU
        with pytest.raises(RuntimeError, match="device='cuda'"):
            cr.load(path, device="cuda")


def test_a_failed_partial_fit_leaves_the_regressors_prediction_shape():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = X @ [1.0, 2.0, -1.0]
    reg = NeuralNetRegressor(epochs=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError):
        reg.partial_fit(X, y.reshape(-1, 1), sample_weight=np.ones(5))  # 5 weights for 30 rows
    assert reg.predict(X).shape == (30,)
