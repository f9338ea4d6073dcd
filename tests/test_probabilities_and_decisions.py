"""Class probabilities from logits, hinge decisions, dtype of direct passes, R² of a constant
target: numbers a user reads must not be rounded away or counted the wrong way."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli._modelfile import NetworkFile
from chainrule.estimators import NeuralNetClassifier
from chainrule.metrics import r2_score


def _binary_net(logit: float, dtype="float64"):
    """A 1-1 network whose output is ``logit`` × x, trained with BCE (one step, then set)."""
    net = cr.Sequential([cr.Dense(1, 1, rng=0)], dtype=dtype)
    net.fit(np.array([[0.0], [1.0]]), np.array([0, 1]), loss="bce", epochs=1, verbose=0)
    net.set_weights([np.array([[logit]]), np.array([0.0])])
    return net


@pytest.mark.parametrize("dtype, logit", [("float64", 40.0), ("float32", 20.0), ("float64", -700.0)])
def test_binary_probabilities_of_the_small_class_come_from_the_logit(dtype, logit):
    """1 - σ(z) is exactly 0 once σ(z) rounds to 1: P(class 0) at logit 40 is e^-40."""
    loss = cr.losses.get_loss("bce")
    z = np.array([[logit], [-logit], [0.0]], dtype=dtype)
    proba = loss.class_probabilities(z)
    log_proba = loss.class_probabilities(z, log=True)
    exact_log = -np.logaddexp(0.0, np.array([[logit, -logit], [-logit, logit], [0.0, 0.0]]))
    np.testing.assert_allclose(log_proba, exact_log, rtol=1e-6)
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(proba, np.exp(exact_log), rtol=1e-5, atol=tiny)
    assert proba.dtype == log_proba.dtype == np.dtype(dtype)


def test_softmax_log_probabilities_stay_finite_where_the_probability_underflows():
    z = np.array([[0.0, 1000.0, -1000.0]])
    log_proba = cr.losses.get_loss("cross_entropy").class_probabilities(z, log=True)
    np.testing.assert_allclose(log_proba, [[-1000.0, 0.0, -2000.0]])


def test_the_estimators_log_proba_is_computed_from_the_logits():
    X = np.array([[-1.0], [1.0]] * 10)
    y = np.array([0, 1] * 10)
    clf = NeuralNetClassifier(hidden_layer_sizes=(), epochs=1, random_state=0).fit(X, y)
    clf.network_.set_weights([np.array([[40.0]]), np.array([0.0])])
    X_new = np.array([[1.0], [-1.0]])
    np.testing.assert_allclose(clf.predict_log_proba(X_new), [[-40.0, -4.25e-18], [-4.25e-18, -40.0]], rtol=1e-2)
    np.testing.assert_allclose(clf.predict_proba(X_new)[:, 0], [np.exp(-40.0) / (1 + np.exp(-40.0)), 1.0])
    multi = NeuralNetClassifier(hidden_layer_sizes=(), epochs=1, random_state=0).fit(
        np.arange(30.0).reshape(-1, 1), np.arange(30) % 3)
    np.testing.assert_allclose(np.exp(multi.predict_log_proba(X_new)), multi.predict_proba(X_new), rtol=1e-12)
    multi.network_.set_weights([np.array([[0.0], [1000.0], [-1000.0]]), np.zeros(3)])  # logit gaps of 1000
    np.testing.assert_allclose(multi.predict_log_proba(np.array([[1.0]])), [[-1000.0, 0.0, -2000.0]])


def test_cli_predictions_give_the_small_class_its_probability():
    frame = NetworkFile(_binary_net(40.0)).predictions_frame(np.array([[1.0], [-1.0]]))
    np.testing.assert_allclose(frame["p_0"], [4.248354e-18, 1.0], rtol=1e-6)
    np.testing.assert_allclose(frame["p_1"], [1.0, 4.248354e-18], rtol=1e-6)
    assert frame["prediction"].tolist() == [1, 0]


def test_one_vs_rest_hinge_accuracy_counts_samples_by_their_largest_margin(rng):
    """'No' to every class is right on k - 1 of k ±1 entries: that is not 67% accuracy."""
    n, k = 90, 3
    X = rng.normal(size=(n, 2))
    labels = rng.integers(0, k, size=n)
    targets = np.where(np.eye(k)[labels] > 0, 1.0, -1.0)
    net = cr.Sequential([cr.Dense(2, k, rng=0)])
    net.fit(X, targets, loss="hinge", epochs=1, verbose=0)
    net.set_weights([np.zeros((k, 2)), np.array([-1.0, -2.0, -3.0])])  # every margin says "not this class"
    assert net.evaluate(X, targets)["accuracy"] == pytest.approx(np.mean(labels == 0))
    np.testing.assert_array_equal(net.predict_classes(X), np.zeros(n))
    scores = rng.normal(size=(n, k))
    metric = cr.metrics.Accuracy(cr.losses.get_loss("hinge"))
    metric.update(scores, targets)
    assert metric.result() == pytest.approx(np.mean(scores.argmax(axis=1) == labels))


def test_hinge_validation_scores_are_accuracies(rng):
    X = rng.normal(size=(120, 4))
    y = rng.integers(0, 4, size=120)  # noise: about 1/4 is all a classifier can get ("no" to all: 3/4 of the ±1)
    clf = NeuralNetClassifier(loss="hinge", hidden_layer_sizes=(8,), epochs=5, early_stopping=True,
                              validation_fraction=0.25, random_state=0).fit(X, y)
    assert max(clf.validation_scores_) < 0.5


def test_a_zero_margin_is_the_negative_class_in_the_network_and_the_estimator():
    f = np.zeros((4, 1))
    np.testing.assert_array_equal(cr.losses.get_loss("hinge").decide(f), -np.ones(4))
    X = np.array([[-1.0], [1.0]] * 5)
    clf = NeuralNetClassifier(loss="hinge", hidden_layer_sizes=(), epochs=1, random_state=0).fit(X, [0, 1] * 5)
    clf.network_.set_weights([np.zeros((1, 1)), np.zeros(1)])
    np.testing.assert_array_equal(clf.predict(X), np.zeros(10))
    np.testing.assert_array_equal(clf.network_.predict_classes(X), -np.ones(10))


def test_a_float32_network_computes_in_float32_for_float64_input(rng):
    net = cr.mlp([3, 4, 2], rng=0, dtype="float32")
    out = net.forward(rng.normal(size=(5, 3)))
    assert out.dtype == np.float32
    dX = net.backward(rng.normal(size=(5, 2)))
    assert dX.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in net.parameters())
    assert net.forward(np.ones((2, 3), dtype=int)).dtype == np.float32


def test_predict_can_return_the_logits():
    net = _binary_net(3.0)
    X = np.array([[1.0], [2.0]])
    np.testing.assert_allclose(net.predict(X, link=False), [[3.0], [6.0]])
    np.testing.assert_allclose(net.predict(X), 1 / (1 + np.exp(-np.array([[3.0], [6.0]]))))
    with pytest.raises(TypeError, match="link must be True or False"):
        net.predict(X, link="no")


def test_r2_of_a_constant_target_follows_scikit_learn():
    from sklearn.metrics import r2_score as sklearn_r2

    y = np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 6.0]])
    exact_constant = np.array([[1.0, 2.1], [1.0, 3.9], [1.0, 6.0]])
    missed_constant = exact_constant + [0.5, 0.0]
    for pred in (exact_constant, missed_constant):
        assert r2_score(y, pred) == pytest.approx(sklearn_r2(y, pred))
    assert r2_score(np.ones(3), np.ones(3)) == 1.0 == sklearn_r2(np.ones(3), np.ones(3))
    assert r2_score(np.ones(3), np.zeros(3)) == 0.0


def test_r2_of_one_sample_is_undefined():
    assert np.isnan(r2_score([3.0], [1.0]))


def test_the_estimator_decides_a_tiny_positive_logit_as_the_loss_does():
    """σ(1e-8) rounds to 0.5 in float32: the probabilities tie, the logit does not."""
    X = np.array([[-1.0], [1.0]] * 5)
    clf = NeuralNetClassifier(hidden_layer_sizes=(), epochs=1, random_state=0, dtype="float32").fit(X, [0, 1] * 5)
    clf.network_.set_weights([np.array([[1e-8]], dtype=np.float32), np.array([0.0], dtype=np.float32)])
    np.testing.assert_array_equal(clf.predict(np.array([[1.0], [-1.0]])), [1, 0])
    np.testing.assert_array_equal(clf.network_.predict_classes(np.array([[1.0], [-1.0]])), [1, 0])
