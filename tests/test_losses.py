"""Every registered loss: gradient against central differences in float64, values against
independent formulas, target validation, sample weights."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.losses import LOSSES, get_loss

from conftest import numerical_gradient, relative_error, targets_for

TOL = 1e-7


def _outputs_for(loss, n, k, rng):
    y_pred = rng.normal(size=(n, k)) * 2
    if loss.name == "hinge":  # keep 1 - y f away from the kink at 0
        y_pred = np.where(np.abs(np.abs(y_pred) - 1) < 0.1, y_pred + 0.3, y_pred)
    return y_pred


@pytest.mark.parametrize("loss_cls", LOSSES.classes(), ids=lambda c: c.name)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_loss_gradient_matches_central_differences(loss_cls, weighted, rng):
    loss = loss_cls()
    n, k = 7, 3
    y_pred = _outputs_for(loss, n, k, rng)
    y_true = targets_for(loss, n, k, rng)
    if loss.name == "huber":
        y_true = y_pred - np.where(rng.random((n, k)) < 0.5, 0.3, 2.5) * rng.choice([-1, 1], (n, k))
    weights = rng.uniform(0.1, 2.0, size=n) if weighted else None

    def objective():
        return loss.forward(y_pred, y_true, sample_weight=weights)

    objective()
    analytic = loss.backward()
    assert analytic.shape == y_pred.shape
    assert relative_error(analytic, numerical_gradient(objective, y_pred)) < TOL


def test_cross_entropy_one_hot_equals_integer_labels(rng):
    z = rng.normal(size=(6, 4))
    labels = rng.integers(0, 4, size=6)
    ce = cr.losses.CrossEntropy()
    a = ce.forward(z, labels)
    ga = ce.backward()
    b = ce.forward(z, np.eye(4)[labels])
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(ga, ce.backward())


def test_values_match_textbook_formulas(rng):
    y_pred, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    assert get_loss("mse").forward(y_pred, y) == pytest.approx(np.mean((y_pred - y) ** 2))
    assert get_loss("sse").forward(y_pred, y) == pytest.approx(0.5 * np.sum((y_pred - y) ** 2))
    z = rng.normal(size=(5, 1)) * 3
    t = rng.integers(0, 2, size=(5, 1)).astype(float)
    p = 1 / (1 + np.exp(-z))
    assert get_loss("bce").forward(z, t) == pytest.approx(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))
    logits, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, size=5)
    soft = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert get_loss("cross_entropy").forward(logits, labels) == pytest.approx(-np.mean(np.log(soft[np.arange(5), labels])))
    f, s = rng.normal(size=(5, 1)), rng.choice([-1.0, 1.0], size=(5, 1))
    assert get_loss("hinge").forward(f, s) == pytest.approx(np.mean(np.maximum(0, 1 - s * f)))
    r = np.array([[0.5], [-3.0]])
    assert cr.losses.Huber(1.0).forward(r, np.zeros((2, 1))) == pytest.approx((0.125 + 2.5) / 2)


def test_classification_gradients_are_p_minus_y_over_n(rng):
    z = rng.normal(size=(8, 1))
    t = rng.integers(0, 2, size=(8, 1)).astype(float)
    bce = get_loss("bce")
    bce.forward(z, t)
    np.testing.assert_allclose(bce.backward(), (1 / (1 + np.exp(-z)) - t) / 8)


def test_cross_entropy_is_stable_for_huge_logits():
    ce = get_loss("cross_entropy")
    value = ce.forward(np.array([[1000.0, -1000.0, 0.0]]), np.array([0]))
    assert value == pytest.approx(0.0, abs=1e-12)
    assert get_loss("bce").forward(np.array([[800.0], [-800.0]]), np.array([[0.0], [1.0]])) == pytest.approx(800.0)


def test_zero_sample_weight_equals_dropping_the_sample(rng):
    y_pred, y = rng.normal(size=(6, 1)), rng.normal(size=(6, 1))
    w = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    keep = w > 0
    mse = get_loss("mse")
    assert mse.forward(y_pred, y, sample_weight=w) == pytest.approx(mse.forward(y_pred[keep], y[keep]))


@pytest.mark.parametrize("name, bad, message", [
    ("bce", [[2.0]], "BinaryCrossEntropy needs targets in \\[0, 1\\].*2"),
    ("bce", [[-1.0]], "-1"),
    ("hinge", [[0.0]], "Hinge needs targets of -1 or \\+1.*0"),
    ("cross_entropy", [7], "in 0..2"),
    ("cross_entropy", [1.5], "integer class labels"),
])
def test_targets_outside_what_the_loss_accepts(name, bad, message):
    loss = get_loss(name)
    width = 3 if name == "cross_entropy" else 1
    with pytest.raises(ValueError, match=message):
        loss.forward(np.zeros((1, width)), np.array(bad))


def test_shape_mismatch_and_bad_weights(rng):
    with pytest.raises(ValueError, match="network has 2 output"):
        get_loss("mse").forward(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="samples"):
        get_loss("mse").forward(np.zeros((3, 1)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="sample_weight must be >= 0"):
        get_loss("mse").forward(np.zeros((2, 1)), np.zeros((2, 1)), sample_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="at least 2 outputs"):
        get_loss("cross_entropy").forward(np.zeros((2, 1)), np.array([0, 1]))


def test_backward_before_forward_raises():
    for loss_cls in LOSSES.classes():
        with pytest.raises(RuntimeError, match="before forward"):
            loss_cls().backward()


def test_unknown_loss_name_lists_choices():
    with pytest.raises(ValueError, match="unknown loss 'msee'.*mse"):
        get_loss("msee")


def test_links_give_probabilities(rng):
    z = rng.normal(size=(4, 3))
    np.testing.assert_allclose(get_loss("cross_entropy").link(z).sum(axis=1), 1.0)
    p = get_loss("bce").link(np.array([[-800.0], [0.0], [800.0]]))
    np.testing.assert_allclose(p, [[0.0], [0.5], [1.0]], atol=1e-300)
