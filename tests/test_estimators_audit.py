"""The estimator audit's findings: warm-start divergence, the early-stopping split of warm fits,
sparse X, multilabel y, AdamW's weight decay, partial_fit's classes, the L2 penalty in
loss_curve_ and the docstrings."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_multilabel_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import chainrule as cr
from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor
from chainrule.estimators import base as estimator_base
from chainrule.estimators.inputs import as_generator


pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def linear():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    return X, X @ [1.0, -2.0, 0.5]


@pytest.fixture(scope="module")
def iris():
    X, y = datasets.load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def multilabel():
    X, Y = make_multilabel_classification(n_samples=300, n_classes=4, random_state=0)
    return StandardScaler().fit_transform(X), Y


# -- 1. divergence is measured from where the network's training began ---------------------------
def test_warm_fits_of_a_converged_model_do_not_diverge(linear):
    """Each warm fit used to compare its epochs with its own first epoch's tiny loss: Adam's
    wobble at 1e-6 then read as a 1000-fold blow-up (the 4th fit raised)."""
    X, y = linear
    reg = NeuralNetRegressor(hidden_layer_sizes=(16,), learning_rate=1e-2, epochs=100, warm_start=True,
                             random_state=0)
    for _ in range(6):
        reg.fit(X, y)
    assert reg.n_iter_ == 600 and reg.score(X, y) > 0.999


def test_a_warm_fit_that_blows_up_is_still_caught_from_the_first_fits_loss(linear):
    X, y = linear
    reg = NeuralNetRegressor(hidden_layer_sizes=(16,), learning_rate=1e-2, epochs=20, warm_start=True,
                             random_state=0).fit(X, y)
    first = reg.loss_curve_[0]
    reg.set_params(optimizer="sgd", learning_rate=1e4, batch_size=None)
    with pytest.raises(cr.DivergenceError, match="the first epoch's of the network's first fit") as caught:
        reg.fit(X, y)
    assert f"({first:.6g})" in str(caught.value)


def test_a_diverged_fit_records_the_epochs_it_kept(linear):
    """n_iter_ and loss_curve_ count the accepted epochs of a fit that raised DivergenceError."""
    X, y = linear
    reg = NeuralNetRegressor(learning_rate=0.6, optimizer="sgd", batch_size=None, epochs=200, random_state=0)
    with pytest.raises(cr.DivergenceError) as caught:
        reg.fit(X, y)
    kept = caught.value.history.loss
    assert len(kept) >= 2  # it diverged after some accepted epochs, not in the first
    assert reg.n_iter_ == len(reg.loss_curve_) == len(kept)
    np.testing.assert_allclose(reg.loss_curve_, kept)
    assert reg.best_validation_score_ is None


@pytest.fixture
def held_out(monkeypatch):
    """Every early-stopping split an estimator makes: ``((X, y, w), (X_val, y_val[, w_val]))`` each."""
    splits = []
    split = estimator_base.holdout_split

    def spy(*args, **kwargs):
        parts = split(*args, **kwargs)
        splits.append(parts)
        return parts

    monkeypatch.setattr(estimator_base, "holdout_split", spy)
    return splits


# -- 2. warm fits with early stopping keep their validation split ---------------------------------
def test_warm_fits_hold_out_the_same_rows(iris, held_out):
    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), early_stopping=True, epochs=3, warm_start=True,
                              random_state=0)
    clf.fit(X, y)
    clf.fit(X, y)
    assert len(held_out) == 2
    np.testing.assert_array_equal(held_out[0][1][0], held_out[1][1][0])


@pytest.mark.parametrize("cls", [NeuralNetClassifier, NeuralNetRegressor])
def test_held_out_rows_keep_their_weights(cls, iris, held_out):
    """The validation score early stopping keeps is the held-out rows' weighted score, as the
    training loss is weighted."""
    X, y = iris
    target = y if cls is NeuralNetClassifier else X[:, 0] + y
    weights = np.random.default_rng(1).uniform(0.1, 5.0, size=len(y))
    model = cls(hidden_layer_sizes=(8,), early_stopping=True, epochs=8, learning_rate=1e-2, random_state=0)
    model.fit(X, target, sample_weight=weights)
    (_, _, w_train), (X_val, _, w_val) = held_out[0]
    assert len(w_val) == len(X_val) and len(w_train) + len(w_val) == len(y)
    rows = [np.flatnonzero((X == row).all(axis=1))[0] for row in X_val]
    weighted, unweighted = (model.score(X[rows], target[rows], sample_weight=w) for w in (weights[rows], None))
    assert model.best_validation_score_ == pytest.approx(weighted, rel=1e-9)
    assert weighted != pytest.approx(unweighted, rel=1e-9)


# -- 3. sparse X -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.coo_matrix])
def test_sparse_x_trains_and_predicts_as_dense(kind, iris):
    X, y = iris
    params = {"hidden_layer_sizes": (8,), "epochs": 5, "random_state": 0}
    dense = NeuralNetClassifier(**params).fit(X, y)
    sparse = NeuralNetClassifier(**params).fit(kind(X), y)
    np.testing.assert_array_equal(sparse.predict_proba(kind(X)), dense.predict_proba(X))
    assert sparse.score(kind(X), y) == dense.score(X, y)
    reg = NeuralNetRegressor(**params).fit(kind(X), X[:, 0])
    np.testing.assert_array_equal(reg.predict(kind(X)), NeuralNetRegressor(**params).fit(X, X[:, 0]).predict(X))
    NeuralNetClassifier(**params).partial_fit(kind(X), y, classes=[0, 1, 2])


def test_a_one_hot_column_transformer_feeds_the_estimator():
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], size=200)
    X = np.column_stack([colour, rng.normal(size=200).round(3)]).astype(object)
    y = (colour == "red").astype(int)
    prep = ColumnTransformer([("onehot", OneHotEncoder(), [0])], remainder="passthrough", sparse_threshold=1.0)
    assert sp.issparse(prep.fit_transform(X))
    model = make_pipeline(prep, NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=60, learning_rate=1e-2,
                                                    random_state=0)).fit(X, y)
    assert model.score(X, y) == 1.0


def test_nan_in_sparse_x_is_refused(iris):
    X, y = iris
    bad = sp.csr_matrix(X)
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        NeuralNetClassifier(epochs=2).fit(bad, y)
    clf = NeuralNetClassifier(epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.predict(bad)


# -- 4. multilabel y -------------------------------------------------------------------------------
def test_multilabel_y_trains_sigmoid_outputs(multilabel):
    X, Y = multilabel
    clf = NeuralNetClassifier(hidden_layer_sizes=(32,), epochs=100, learning_rate=1e-2, random_state=0).fit(X, Y)
    assert clf.network_.loss.name == "bce" and clf.network_.n_outputs == 4
    np.testing.assert_array_equal(clf.classes_, np.arange(4))
    predicted = clf.predict(X)
    assert predicted.shape == Y.shape and predicted.dtype == np.int64 and set(np.unique(predicted)) <= {0, 1}
    assert (predicted == Y).mean() > 0.9  # per-label accuracy on the training data
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()
    assert not np.allclose(proba.sum(axis=1), 1.0)  # independent labels, not a softmax
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-10, atol=1e-12)
    assert NeuralNetClassifier().__sklearn_tags__().classifier_tags.multi_label


def test_multilabel_hinge_margins(multilabel):
    X, Y = multilabel
    clf = NeuralNetClassifier(loss="hinge", hidden_layer_sizes=(16,), epochs=30, random_state=0).fit(X, Y)
    margins = clf.decision_function(X)
    assert margins.shape == Y.shape
    np.testing.assert_array_equal(clf.predict(X), (margins > 0).astype(int))


def test_multilabel_round_trips_through_a_model_file(multilabel, tmp_path):
    X, Y = multilabel
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=0).fit(X, Y)
    loaded = cr.load(clf.save(tmp_path / "multilabel.chainrule"))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    loaded.partial_fit(X, Y)  # continues as multilabel


def test_multilabel_refusals_name_the_problem(multilabel):
    X, Y = multilabel
    with pytest.raises(ValueError, match="loss 'cross_entropy' picks one class per row"):
        NeuralNetClassifier(loss="cross_entropy", epochs=2).fit(X, Y)
    with pytest.raises(ValueError, match="MultiOutputClassifier"):
        NeuralNetClassifier(epochs=2).fit(X, Y * 2 + 1)  # several multi-class targets
    with pytest.raises(ValueError, match=r"classes=range\(4\)"):
        NeuralNetClassifier(epochs=2).partial_fit(X, Y, classes=[0, 1])
    clf = NeuralNetClassifier(epochs=2, warm_start=True, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match="previous fit .4 multilabel columns., got classes .0, 1, 2, 3."):
        clf.fit(X, Y.argmax(axis=1))  # classes 0..3 again, but one label per row
    fresh = NeuralNetClassifier(epochs=1, random_state=0).partial_fit(X, Y, classes=range(4))
    assert fresh.predict(X).shape == Y.shape


# -- 5. AdamW: l2 is its decoupled weight decay ------------------------------------------------------
def test_adamw_without_l2_is_adam(iris):
    X, y = iris
    params = {"hidden_layer_sizes": (8,), "epochs": 5, "random_state": 0}
    adamw = NeuralNetClassifier(optimizer="adamw", **params).fit(X, y)
    adam = NeuralNetClassifier(optimizer="adam", **params).fit(X, y)
    np.testing.assert_array_equal(adamw.predict_proba(X), adam.predict_proba(X))


def test_adamw_takes_l2_as_decoupled_decay_only(iris):
    X, y = iris
    clf = NeuralNetClassifier(optimizer="adamw", l2=0.1, epochs=2, warm_start=True, random_state=0).fit(X, y)
    assert clf._optimizer.weight_decay == 0.1 and clf._optimizer.l2 == 0.0
    clf.set_params(l2=0.2).fit(X, y)
    assert clf._optimizer.weight_decay == 0.2 and clf._optimizer.l2 == 0.0


def test_adamw_decay_too_large_names_the_estimators_parameters(iris):
    X, y = iris
    clf = NeuralNetClassifier(optimizer="adamw", learning_rate=100, l2=0.01)
    with pytest.raises(ValueError, match=r"learning_rate × l2 must be below 1, got 100 × 0.01"):
        clf.fit(X, y)
    assert not hasattr(clf, "network_")


# -- 6. partial_fit's classes -----------------------------------------------------------------------
@pytest.mark.parametrize("classes, message", [
    ([0, 1, 2, np.nan], "must not hold NaN"),
    (np.array(["a", None], dtype=object), "must not hold NaN, infinity or None"),
    ([[0, 1], [2, 3]], "must be 1-D"),
    ([], "must not be empty"),
    ([0, 1, 1, 2], "must be distinct"),
])
def test_partial_fit_checks_classes_before_any_work(classes, message, iris):
    X, y = iris
    clf = NeuralNetClassifier(epochs=1)
    with pytest.raises(ValueError, match=message):
        clf.partial_fit(X, y, classes=classes)
    assert not hasattr(clf, "network_") and not hasattr(clf, "classes_")


# -- 7. loss_curve_ holds the L2 penalty; docstrings -----------------------------------------------
def test_loss_curve_includes_the_l2_penalty(iris):
    X, y = iris
    params = {"hidden_layer_sizes": (8,), "epochs": 1, "batch_size": None, "optimizer": "sgd", "random_state": 0}
    plain = NeuralNetRegressor(**params).fit(X, y)
    penalised = NeuralNetRegressor(l2=0.5, **params).fit(X, y)
    start = NeuralNetRegressor(**params)
    start._rng = as_generator(0)
    weights = [p.value for p in start._build_network(4, 1).parameters() if p.regularize]
    penalty = 0.25 * sum(float((w * w).sum()) for w in weights)
    # full-batch descent measures the first epoch's loss on the initial weights, the same for both
    assert penalised.loss_curve_[0] == pytest.approx(plain.loss_curve_[0] + penalty, rel=1e-12)
    assert penalised.network_.history.loss[0] == pytest.approx(plain.loss_curve_[0], rel=1e-12)


@pytest.mark.parametrize("cls", [NeuralNetClassifier, NeuralNetRegressor])
def test_public_classes_document_every_parameter(cls):
    doc = cls.__doc__
    for name in cls().get_params():
        assert re.search(rf"^    {name} : ", doc, re.M), name
    assert "He uniform for the hidden\n        layers of \"relu\" and \"leaky_relu\"" in doc
    for method in ("fit", "partial_fit"):
        assert "Returns\n        -------\n        self" in getattr(cls, method).__doc__
    assert "Parameters\n        ----------\n        X :" in cls.predict.__doc__


@pytest.mark.parametrize("loss", ["bce", "hinge"])
def test_multilabel_validation_scores_are_subset_accuracy(loss, multilabel, held_out):
    """validation_scores_ is what score() gives on the held-out rows: whole rows right."""
    from sklearn.metrics import accuracy_score

    X, Y = multilabel
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), loss=loss, early_stopping=True, epochs=15, random_state=0)
    clf.fit(X, Y)
    X_val = held_out[0][1][0]
    rows = [np.flatnonzero((X == row).all(axis=1))[0] for row in X_val]
    assert clf.best_validation_score_ == pytest.approx(accuracy_score(Y[rows], clf.predict(X_val)), abs=1e-12)


def test_subset_accuracy_matches_scikit_learn_with_weights():
    from sklearn.metrics import accuracy_score

    from chainrule.metrics import make_metric

    rng = np.random.default_rng(0)
    Y = rng.integers(0, 2, size=(50, 3)).astype(float)
    logits = rng.normal(size=(50, 3)) + 2 * (Y - 0.5)
    w = rng.uniform(0.1, 3.0, size=50)
    for loss, targets in ((cr.losses.BinaryCrossEntropy(), Y), (cr.losses.Hinge(), 2 * Y - 1)):
        metric = make_metric("subset_accuracy", loss, targets, w)
        for start in range(0, 50, 16):  # batches
            rows = slice(start, start + 16)
            metric.update(logits[rows], targets[rows], loss, w[rows])
        assert metric.result() == pytest.approx(accuracy_score(Y, logits > 0, sample_weight=w), rel=1e-12)
