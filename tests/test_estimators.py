"""scikit-learn estimators: the estimator-check suite, pipelines and search, label handling,
partial_fit / warm_start / sample_weight, and accuracy against scikit-learn's MLP."""

import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor


@parametrize_with_checks([NeuralNetClassifier(epochs=30, random_state=0), NeuralNetRegressor(epochs=30, random_state=0)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_grid_search_and_cross_validation():
    X, y = datasets.load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=200, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.85
    search = GridSearchCV(pipe, {"neuralnetclassifier__learning_rate": [1e-3, 1e-2]}, cv=3).fit(X, y)
    assert search.best_score_ > 0.9


def test_string_labels_binary_and_multiclass():
    X, y = datasets.load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=100, random_state=0).fit(X, names)
    assert set(clf.predict(X)) <= set(names) and clf.score(X, names) > 0.9
    assert clf.predict_proba(X).shape == (150, 3) and clf.network_.n_outputs == 3
    binary = names != "setosa"
    labels = np.where(binary, "yes", "no")
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=50, random_state=0).fit(X, labels)
    assert clf.network_.n_outputs == 1 and clf.network_.loss.name == "bce"
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)


def test_multi_output_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    Y = np.column_stack([X[:, 0] + X[:, 1], 100 * np.sin(X[:, 2]), X[:, 3] ** 2])
    reg = make_pipeline(StandardScaler(), NeuralNetRegressor(hidden_layer_sizes=(32, 32), learning_rate=1e-2,
                                                             epochs=150, random_state=0))
    from sklearn.compose import TransformedTargetRegressor

    model = TransformedTargetRegressor(regressor=reg, transformer=StandardScaler()).fit(X, Y)
    assert model.predict(X).shape == (300, 3) and model.score(X, Y) > 0.9


def test_partial_fit_warm_start_and_curves():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    for _ in range(5):
        clf.partial_fit(X, y, classes=[0, 1])
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 5 and clf.loss_curve_[-1] < clf.loss_curve_[0]
    warm = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=3, warm_start=True, random_state=0)
    warm.fit(X, y)
    first = warm.network_
    warm.fit(X, y)
    assert warm.network_ is first and warm.n_iter_ == 6
    stopped = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=300, early_stopping=True, patience=5,
                                  random_state=0).fit(X, y)
    assert stopped.n_iter_ < 300 and len(stopped.validation_scores_) == stopped.n_iter_


def test_sample_weight_is_honoured():
    X, y = datasets.make_classification(n_samples=200, n_features=5, random_state=0)
    w = np.ones(200)
    w[y == 1] = 0.0  # class 1 carries no weight: the model learns to say 0
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=50, random_state=0).fit(X, y, sample_weight=w)
    assert (clf.predict(X) == 0).mean() > 0.9


def test_bad_parameters_and_input():
    X, y = datasets.load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be positive"):
        NeuralNetClassifier(hidden_layer_sizes=(0,)).fit(X, y)
    with pytest.raises(ValueError, match="epochs must be > 0"):
        NeuralNetRegressor(epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="unknown activation"):
        NeuralNetClassifier(activation="swish").fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        NeuralNetClassifier().fit(np.where(X > 7, np.nan, X), y)


COMPARABLE = dict(hidden_layer_sizes=(64,), init="glorot_uniform", batch_size=200, l2=1e-4, epochs=500)
SKLEARN = dict(hidden_layer_sizes=(64,), batch_size=200, alpha=1e-4, max_iter=500)


@pytest.mark.parametrize("name", ["breast_cancer", "digits", "iris", "wine", "diabetes"])
def test_within_one_point_of_scikit_learn_mlp(name):
    """Same split, same architecture, batch size, L2 and epochs; scores averaged over seeds."""
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    regression = name == "diabetes"
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=None if regression else y)
    ours_scores, theirs_scores = [], []
    for seed in range(1 if name == "digits" else 3):
        if regression:
            ours = NeuralNetRegressor(learning_rate=1e-2, random_state=seed, **COMPARABLE)
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
    X, y = datasets.load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    clf = NeuralNetClassifier(hidden_layer_sizes=(32, 32, 32), batch_norm=True, dropout=0.1, residual=True,
                              epochs=15, batch_size=64, random_state=0).fit(X_train, y_train)
    kinds = {type(layer).__name__ for layer in clf.network_.layers}
    assert {"BatchNorm", "Dropout", "Residual"} <= kinds
    assert clf.score(X_test, y_test) > 0.9
    clf.network_.save(tmp_path / "deep.chainrule")
    import chainrule as cr

    np.testing.assert_array_equal(cr.load(tmp_path / "deep.chainrule").predict(X_test), clf.network_.predict(X_test))
