"""Seed 002's other models as one-layer networks, against scikit-learn and closed forms."""

import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from chainrule.models import LinearRegressionGD, LinearSVMGD, LogisticRegressionGD


def test_linear_regression_matches_least_squares():
    X, y = datasets.load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = LinearRegressionGD(learning_rate=0.1, epochs=3000).fit(X, y)
    A = np.c_[X, np.ones(len(X))]
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    r2_closed = 1 - np.sum((A @ coef - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert abs(model.score(X, y) - r2_closed) < 0.01
    # on well-conditioned data gradient descent reaches the closed-form coefficients themselves
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X @ np.array([1.5, -2.0, 0.3, 0.0]) + 4.0 + rng.normal(0, 0.1, 300)
    model = LinearRegressionGD(learning_rate=0.1, epochs=2000).fit(X, y)
    coef = np.linalg.lstsq(np.c_[X, np.ones(300)], y, rcond=None)[0]
    np.testing.assert_allclose(model.coef_[0], coef[:4], atol=1e-8)
    np.testing.assert_allclose(model.intercept_, coef[4:], atol=1e-8)


@pytest.mark.parametrize("name", ["breast_cancer", "iris", "wine", "digits"])
def test_logistic_regression_within_one_point_of_scikit_learn(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    ours = make_pipeline(StandardScaler(), LogisticRegressionGD(C=1.0, epochs=1000, random_state=0))
    theirs = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
    a = ours.fit(X_train, y_train).score(X_test, y_test)
    b = theirs.fit(X_train, y_train).score(X_test, y_test)
    assert a >= b - 0.01, (a, b)


@pytest.mark.parametrize("name", ["breast_cancer", "iris", "wine"])
def test_linear_svm_within_one_point_of_linear_svc(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    ours = make_pipeline(StandardScaler(), LinearSVMGD(C=1.0, epochs=2000, random_state=0))
    theirs = make_pipeline(StandardScaler(), LinearSVC(C=1.0, loss="hinge", max_iter=20000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = cross_val_score(theirs, X, y, cv=5).mean()
    a = cross_val_score(ours, X, y, cv=5).mean()  # 5-fold: a test set of 45 cannot resolve 1 point
    assert a >= b - 0.01, (a, b)


def test_one_layer_models_have_no_hidden_layer_and_expose_weights():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = LogisticRegressionGD(epochs=50).fit(X, y)
    assert len(model.network_.layers) == 1 and model.coef_.shape == (1, 30)
    svm = LinearSVMGD(epochs=50).fit(X, y)
    assert svm.decision_function(X).shape == (len(X),)
    with pytest.raises(ValueError, match="C must be > 0"):
        LinearSVMGD(C=0).fit(X, y)
    assert LinearRegressionGD().get_params()["learning_rate"] == "auto"
