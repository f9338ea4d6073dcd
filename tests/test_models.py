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

from chainrule import DivergenceError
from chainrule.models import (
    LinearRegressionGD,
    LinearSVMGD,
    LogisticRegressionGD,
    top_eigenvalue,
)


pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _r2(prediction, y):
    return 1 - np.sum((prediction - y) ** 2) / np.sum((y - y.mean()) ** 2)


def test_linear_regression_matches_least_squares_on_diabetes():
    X, y = datasets.load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    model = LinearRegressionGD(epochs=3000, random_state=0).fit(X_train, y_train)
    A = np.c_[X_train, np.ones(len(X_train))]
    coef = np.linalg.lstsq(A, y_train, rcond=None)[0]
    closed = _r2(np.c_[X_test, np.ones(len(X_test))] @ coef, y_test)
    ours = model.score(X_test, y_test)
    print(f"diabetes test R²: gradient descent {ours:.4f}, closed form {closed:.4f}")
    assert abs(ours - closed) < 0.01


def test_linear_regression_reaches_the_closed_form_coefficients():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 50.0, 0.0, -2.0]  # unscaled on purpose
    y = X @ np.array([1.5, -2.0, 0.3, 0.0]) + 4.0 + rng.normal(0, 0.1, 300)
    coef = np.linalg.lstsq(np.c_[X, np.ones(300)], y, rcond=None)[0]
    # learning_rate="auto" (1/L) converges on unscaled data, where a fixed 0.1 diverges
    with pytest.raises(DivergenceError, match="diverged"):
        LinearRegressionGD(learning_rate=0.1, epochs=500).fit(X, y)
    scaled = StandardScaler().fit(X)
    model = LinearRegressionGD(epochs=3000, random_state=0).fit(scaled.transform(X), y)
    W = model.coef_[0] / scaled.scale_
    np.testing.assert_allclose(W, coef[:4], atol=1e-8)
    np.testing.assert_allclose(model.intercept_ - W @ scaled.mean_, coef[4:], atol=1e-6)
    ridge = LinearRegressionGD(l2=1.0, epochs=3000).fit(scaled.transform(X), y)
    A = np.c_[scaled.transform(X), np.ones(300)]
    # mean squared error + λ/2‖W‖²: (2AᵀA/n + λ·diag(1..1, 0)) w = 2Aᵀy/n
    penalty = np.diag([1.0, 1.0, 1.0, 1.0, 0.0])
    solution = np.linalg.solve(2 * A.T @ A / 300 + penalty, 2 * A.T @ y / 300)
    np.testing.assert_allclose(ridge.coef_[0], solution[:4], atol=1e-6)


def test_auto_step_is_one_over_the_curvature():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3)) * [1.0, 2.0, 5.0]
    A = np.c_[X, np.ones(200)]
    exact = np.linalg.eigvalsh(A.T @ A / 200).max()
    assert top_eigenvalue(X) == pytest.approx(exact, rel=1e-6)
    model = LinearRegressionGD(epochs=1).fit(X, X[:, 0])
    assert model._optimizer.lr == pytest.approx(1 / (2 * exact), rel=1e-6)
    weights = rng.uniform(0, 2, 200)
    weighted_exact = np.linalg.eigvalsh(A.T @ (weights[:, None] * A) / weights.sum()).max()
    assert top_eigenvalue(X, weights) == pytest.approx(weighted_exact, rel=1e-6)


@pytest.mark.parametrize("name", ["breast_cancer", "iris", "wine", "digits"])
def test_logistic_regression_within_one_point_of_scikit_learn(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    ours = make_pipeline(StandardScaler(), LogisticRegressionGD(C=1.0, epochs=1000, random_state=0))
    theirs = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
    a = ours.fit(X_train, y_train).score(X_test, y_test)
    b = theirs.fit(X_train, y_train).score(X_test, y_test)
    print(f"{name}: LogisticRegressionGD {a:.4f}, LogisticRegression {b:.4f}")
    assert a >= b - 0.01, (a, b)


def test_logistic_regression_reaches_scikit_learns_optimum():
    """Same objective (C Σ loss + ½‖W‖²): the coefficients themselves agree."""
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = LogisticRegressionGD(C=0.1, epochs=3000, random_state=0).fit(X, y)
    theirs = LogisticRegression(C=0.1, tol=1e-10, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=2e-3)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=2e-3)


@pytest.mark.parametrize("name", ["breast_cancer", "iris", "wine", "digits"])
def test_linear_svm_within_one_point_of_linear_svc(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    ours = make_pipeline(StandardScaler(), LinearSVMGD(C=1.0, epochs=1000, random_state=0))
    theirs = make_pipeline(StandardScaler(), LinearSVC(C=1.0, loss="hinge", max_iter=20000, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = cross_val_score(theirs, X, y, cv=5).mean()
    a = cross_val_score(ours, X, y, cv=5).mean()  # 5-fold: a test set of 30 cannot resolve 1 point
    print(f"{name}: LinearSVMGD {a:.4f}, LinearSVC {b:.4f}")
    assert a >= b - 0.01, (a, b)


def test_multiclass_linear_svm_has_linear_svcs_c_for_every_class():
    """One-vs-rest with LinearSVC's objective C Σ hinge + ½‖w‖² for every class: each class's
    weights equal a binary LinearSVMGD's with the same C (with the penalty k times too strong,
    as C/k, class 0's were off by up to 0.24). LinearSVC itself is not the reference here: its
    dual coordinate descent is randomised and moved a coefficient by 0.2 from run to run."""
    X, y = datasets.load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = LinearSVMGD(C=1.0, epochs=6000, random_state=0).fit(X, y)
    for k in range(3):
        binary = LinearSVMGD(C=1.0, epochs=6000, random_state=0).fit(X, (y == k).astype(int))
        np.testing.assert_allclose(ours.coef_[k], binary.coef_[0], atol=0.03)
        np.testing.assert_allclose(ours.intercept_[k], binary.intercept_[0], atol=0.03)


def test_a_fit_whose_loss_is_still_falling_warns_like_scikit_learn():
    from sklearn.exceptions import ConvergenceWarning

    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match=r"LogisticRegressionGD did not converge in 1000 epochs: its loss "
                                                r"still fell by [\d.]+% over the last 50; raise epochs"):
        LogisticRegressionGD(random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LogisticRegressionGD(epochs=10000, random_state=0).fit(X, y)  # converged: silent
        LogisticRegressionGD(epochs=15, random_state=0).fit(X, y)  # too short to judge (under 20 epochs)


def test_sample_weights_equal_repeated_rows():
    X, y = datasets.load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    counts = np.random.default_rng(0).integers(1, 4, size=len(X))
    weighted = LogisticRegressionGD(epochs=300, random_state=0).fit(X, y, sample_weight=counts)
    repeated = LogisticRegressionGD(epochs=300, random_state=0).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-8, atol=1e-10)


def test_one_layer_models_have_no_hidden_layer_and_expose_weights():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = LogisticRegressionGD(epochs=50).fit(X, y)
    assert len(model.network_.layers) == 1 and model.coef_.shape == (1, 30) and model.intercept_.shape == (1,)
    assert model.network_.loss.name == "bce"
    svm = LinearSVMGD(epochs=50).fit(X, y)
    assert svm.decision_function(X).shape == (len(X),) and not hasattr(svm, "predict_proba")
    assert svm.network_.loss.name == "hinge"
    iris_X, iris_y = datasets.load_iris(return_X_y=True)
    ovr = LinearSVMGD(epochs=50).fit(iris_X, iris_y)
    assert ovr.decision_function(iris_X).shape == (150, 3) and ovr.coef_.shape == (3, 4)
    with pytest.raises(ValueError, match="C must be > 0"):
        LinearSVMGD(C=0).fit(X, y)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        LogisticRegressionGD(learning_rate=-1.0).fit(X, y)
    assert LinearRegressionGD().get_params() == {"batch_size": None, "epochs": 1000, "l2": 0.0, "learning_rate": "auto",
                                                 "optimizer": "sgd", "random_state": None, "verbose": 0}
    # any optimizer works; "auto" then means that optimizer's own default step
    adam = LogisticRegressionGD(optimizer="adam", epochs=1000, random_state=0).fit(X, y)
    assert adam._optimizer.lr == 1e-3 and adam.score(X, y) > 0.95


def test_the_convergence_warning_points_at_the_callers_line():
    import warnings

    from sklearn.datasets import load_diabetes
    from sklearn.exceptions import ConvergenceWarning

    from chainrule.models import LinearRegressionGD

    X, y = load_diabetes(return_X_y=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LinearRegressionGD(epochs=30).fit(X, y)
    converge = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert converge and converge[0].filename == __file__
