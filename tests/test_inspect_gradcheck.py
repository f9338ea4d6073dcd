"""gradcheck(): analytic gradients against central differences, per tensor, in float64."""

import json

import numpy as np
import pytest
from conftest import targets_for

import chainrule as cr
from chainrule.inspect import gradcheck
from chainrule.layers import ACTIVATIONS
from chainrule.losses import LOSSES


def xtanh(z):
    return z * np.tanh(z)


def xtanh_prime(z):
    t = np.tanh(z)
    return t + z * (1 - t * t)


@pytest.mark.parametrize("activation", [n for n in ACTIVATIONS.names() if n != "softmax"])
def test_every_builtin_activation_passes_in_a_network(activation, rng):
    net = cr.mlp([3, 5, 4, 2], activation=activation, rng=3)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    report = gradcheck(net, X, y, "mse")
    assert report.passed, str(report)
    assert [e.name for e in report.entries if e.kind == "parameter"] == ["W[1]", "b[1]", "W[2]", "b[2]", "W[3]", "b[3]"]
    assert sum(e.kind == "input" for e in report.entries) == len(net.layers)


@pytest.mark.parametrize("loss_name", LOSSES.names())
def test_every_loss_passes(loss_name, rng):
    loss = cr.losses.get_loss(loss_name)
    k = 3 if loss_name == "cross_entropy" else 2
    net = cr.mlp([3, 4, k], activation="tanh", rng=0)
    X = rng.normal(size=(6, 3))
    report = gradcheck(net, X, targets_for(loss, 6, k, rng), loss_name)
    assert report.passed, str(report)


def test_wrong_custom_derivative_is_caught_and_named_by_its_label(rng):
    forgot_product_rule = cr.CustomActivation(xtanh, lambda z: 1 - np.tanh(z) ** 2, label="xtanh_wrong")
    net = cr.Sequential([cr.Dense(3, 4, rng=0), forgot_product_rule, cr.Dense(4, 1, rng=1)])
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    report = gradcheck(net, X, y, "mse")
    assert not report.passed and not bool(report)
    activation_check = report["dZ[1]"]  # the input of the activation after Dense layer 1
    assert not activation_check.passed and activation_check.layer == "CustomActivation('xtanh_wrong')"
    assert activation_check.max_abs_error > 1e-3 and activation_check.rel_error > 1e-2
    assert "xtanh_wrong" in report.summary() and "FAILED" in str(report)
    # the layers above the activation are unaffected by its derivative
    assert report["W[2]"].passed and report["b[2]"].passed
    # layers below it receive the wrong error signal
    assert not report["W[1]"].passed
    # the same activation on its own: only the input gradient exists, and it fails
    alone = gradcheck(forgot_product_rule, rng.normal(size=(4, 3)))
    assert [e.name for e in alone.entries] == ["input of layer 1"] and not alone.passed
    # the correct derivative passes
    right = cr.CustomActivation(xtanh, xtanh_prime, label="xtanh")
    assert gradcheck(cr.Sequential([cr.Dense(3, 4, rng=0), right, cr.Dense(4, 1, rng=1)]), X, y).passed


def test_a_wrong_weight_gradient_is_caught_for_that_parameter(rng):
    class HalfBiasGrad(cr.Dense):
        def backward(self, dz, need_input_grad=True):
            dx = super().backward(dz, need_input_grad)
            self.b.grad *= 0.5
            return dx

    net = cr.Sequential([HalfBiasGrad(2, 3, rng=0), cr.Sigmoid(), cr.Dense(3, 1, rng=1)])
    report = gradcheck(net, rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), "sse")
    assert [e.name for e in report.failures] == ["b[1]"]
    entry = report["b[1]"]
    assert entry.analytic == pytest.approx(0.5 * entry.numeric, rel=1e-6)


def test_single_layers_and_deep_layers(rng):
    X = rng.normal(size=(6, 4))
    for layer in (cr.Dense(4, 3, rng=0), cr.Tanh(), cr.Softmax(), cr.LeakyReLU(0.1),
                  cr.BatchNorm.example(rng, 4), cr.Residual.example(rng, 4), cr.Dropout(0.4, rng=0)):
        report = gradcheck(layer, X)
        assert report.passed, f"{layer!r}\n{report}"
        assert "R ⊙ output" in report.objective
    net = cr.Sequential([cr.Dense(4, 6, rng=0), cr.BatchNorm(6), cr.ReLU(), cr.Dropout(0.3, rng=1),
                         cr.Residual([cr.Dense(6, 6, rng=2), cr.Tanh()]), cr.Dense(6, 2, rng=3)])
    report = gradcheck(net, X, rng.normal(size=(6, 2)))
    assert report.passed, str(report)
    assert "gamma (layer 2)" in [e.name for e in report.entries]


def test_float32_network_is_checked_in_float64_on_a_copy(rng):
    net = cr.mlp([2, 3, 1], activation="sigmoid", rng=0, dtype="float32")
    before = net.get_weights()
    report = gradcheck(net, rng.normal(size=(3, 2)), rng.normal(size=(3, 1)))
    assert report.passed  # a float32 check at tol 1e-7 could not pass
    assert net.dtype == np.float32 and all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))


def test_report_is_json_ready_and_arguments_are_checked(rng):
    net = cr.mlp([2, 2, 1], rng=0)
    X, y = rng.normal(size=(2, 2)), rng.normal(size=(2, 1))
    data = json.loads(json.dumps(gradcheck(net, X, y, inputs=False).to_dict()))
    assert data["passed"] is True and data["tol"] == 1e-7 and len(data["entries"]) == 4
    assert set(data["entries"][0]) >= {"name", "layer", "max_abs_error", "rel_error", "passed", "worst_index"}
    with pytest.raises(ValueError, match="eps must be"):
        gradcheck(net, X, y, eps=0)
    with pytest.raises(ValueError, match="tol must be"):
        gradcheck(net, X, y, tol=float("nan"))
    with pytest.raises(ValueError, match="3 features"):
        gradcheck(net, rng.normal(size=(2, 3)), y)
    with pytest.raises(ValueError, match="needs targets"):
        gradcheck(net, X, loss="mse")
    with pytest.raises(TypeError, match="Sequential or Layer"):
        gradcheck(lambda x: x, X)
    with pytest.raises(KeyError, match="no gradient check named"):
        gradcheck(net, X, y)["W[9]"]


def test_input_gradients_carry_the_lectures_names(rng):
    net = cr.mlp([2, 3, 1], activation="sigmoid", output_activation="sigmoid", rng=0)
    report = gradcheck(net, rng.normal(size=(3, 2)), rng.uniform(size=(3, 1)))
    assert [e.name for e in report.entries] == ["W[1]", "b[1]", "dA[0]", "dZ[1]", "W[2]", "b[2]", "dA[1]", "dZ[2]"]
    # where the lecture has no name, the 1-based position in the network
    mixed = cr.Sequential([cr.Dense(2, 3, rng=0), cr.BatchNorm(3), cr.Tanh(), cr.Dense(3, 1, rng=1)])
    names = [e.name for e in gradcheck(mixed, rng.normal(size=(4, 2)), rng.normal(size=(4, 1))).entries
             if e.kind == "input"]
    assert names == ["dA[0]", "input of layer 2", "input of layer 3", "dA[1]"]


@pytest.mark.parametrize("derivative, message", [
    (lambda z: (1 - np.tanh(z) ** 2).T, r"derivative returned shape \(3, 4\) for z of shape \(4, 3\)"),
    (lambda z: None, "derivative returned a NoneType"),
    (lambda z: 1 / 0, "derivative raised ZeroDivisionError"),
])
def test_a_derivative_that_is_not_element_wise_is_named_by_its_label(derivative, message):
    with pytest.raises(ValueError, match=r"CustomActivation\('mine'\): its " + message):
        gradcheck(cr.CustomActivation(np.tanh, derivative, label="mine"), np.ones((4, 3)))
    # a constant slope is fine
    assert gradcheck(cr.CustomActivation(lambda z: 2 * z, lambda z: 2.0, label="lin"), np.ones((4, 3))).passed


def test_a_wrong_derivative_on_small_gradients_fails_and_only_noise_is_unresolved(rng):
    # small gradients pass the absolute tolerance, but the discrepancy is far above the central
    # differences' own error (measured at eps and 2·eps): the derivative is wrong, and it fails
    wrong = cr.CustomActivation(lambda z: z ** 3, lambda z: 0 * z, label="cube_wrong")
    tiny = gradcheck(wrong, rng.normal(size=(4, 3)) * 1e-4)
    assert not tiny.passed and tiny.entries[0].noise < 1e-3 * tiny.entries[0].max_abs_error
    assert not gradcheck(wrong, rng.normal(size=(4, 3))).passed  # at ordinary magnitudes it fails too
    # a discrepancy within the numeric error is unresolved: the check cannot tell
    from chainrule.inspect.gradcheck import _compare

    numeric = np.array([1e-9, -2e-9, 3e-9])
    entry = _compare("W", "Dense", 1, "parameter", 1.5 * numeric, numeric, tol=1e-7, noise=2e-10)
    assert entry.passed and entry.unresolved and entry.status == "unresolved" and not entry.zero
    report = cr.inspect.GradcheckReport([entry], 1e-6, 1e-7, "L", 1)
    for text in (report.summary(), str(report)):  # a learner printing the report sees it
        assert "1 unresolved (W: relative error up to" in text and "too small to test the derivative" in text
    assert report.to_dict()["unresolved"] == ["W"]
    sound = gradcheck(cr.mlp([2, 3, 1], activation="tanh", rng=0), rng.normal(size=(4, 2)), rng.normal(size=(4, 1)))
    assert sound.passed and sound.notes == [] and sound.unresolved == []
    assert "unresolved" not in str(sound)


def test_a_derivative_twice_too_large_on_small_gradients_fails():
    # the learner audit's case: Exercise 1's network, a 2× sigmoid derivative, y ≈ ŷ
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    doubled = cr.CustomActivation(sig, lambda z: 2 * sig(z) * (1 - sig(z)), label="sig_2x")
    net = cr.Sequential([cr.Dense.from_arrays([[0.5, 0.3], [0.2, 0.8]], [0.1, 0.4]), doubled,
                         cr.Dense.from_arrays([[0.9, 0.7]], [0.2]), cr.Sigmoid()])
    report = gradcheck(net, [[1.0, 2.0]], [[0.82081]], "mse")
    assert {e.name for e in report.failures} == {"W[1]", "b[1]", "dA[0]", "dZ[1]"} and not report.unresolved
    assert all(abs(e.rel_error - 1 / 3) < 1e-3 for e in report.failures)  # a factor 2 gives exactly 1/3
    assert "It starts at dZ[1] [CustomActivation('sig_2x')]" in report.summary()
    assert not gradcheck(net, [[1.0, 2.0]], [[0.0]], "mse").passed


def test_a_pass_with_a_large_relative_error_is_unresolved_even_beside_a_large_entry():
    # one entry of magnitude 1 does not make the many small wrong ones conclusive
    from chainrule.inspect.gradcheck import _compare

    numeric = np.full(10_000, 5e-4)
    numeric[0] = 1.0
    analytic = numeric * 2
    analytic[0] = 1.0
    entry = _compare("W", "Dense", 1, "parameter", analytic, numeric, tol=1e-3)
    assert entry.passed and entry.rel_error > 1e-2 and entry.unresolved and entry.status == "unresolved"


def test_the_summary_says_where_a_failure_starts(rng):
    """Backprop runs from the output back: the failure nearest the output names the layer to
    look at (the custom activation, not the Dense layer listed first)."""
    wrong = cr.CustomActivation(xtanh, lambda z: 1 - np.tanh(z) ** 2, label="xtanh_wrong")
    net = cr.Sequential([cr.Dense(3, 4, rng=0), wrong, cr.Dense(4, 1, rng=1)])
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    report = gradcheck(net, X, y, "mse")
    assert report.summary().endswith("It starts at dZ[1] [CustomActivation('xtanh_wrong')] (position 2 in the "
                                     "network): every tensor "
                                     "nearer the output passed, so look at that layer's backward")
    assert report.to_dict()["origin"] == report.origin()
    params_only = gradcheck(net, X, y, "mse", inputs=False)  # the activation is not checked on its own
    assert "It starts at W[1] [Dense(3→4)] (position 1 in the network)" in params_only.summary()
    assert "or at a layer after it (inputs=True checks each layer's input gradient on its own)" in params_only.summary()
    assert gradcheck(net, X, y, "mse", inputs=True).origin() and not gradcheck(cr.mlp([3, 2], rng=0), X).origin()


def test_a_wrong_loss_gradient_points_at_the_output_end(rng):
    class HalfMSE(cr.losses.MSE):
        def backward(self):
            return 0.5 * super().backward()

    report = gradcheck(cr.mlp([2, 3, 1], "tanh", rng=0), rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), HalfMSE())
    assert "It starts at the output end, at" in report.summary() and "(position 3 in the network)" in report.summary()
    assert "or at the loss's gradient" in report.summary()


def test_relu_inputs_at_the_kink_are_named_and_the_failure_put_down_to_them():
    """A correct ReLU whose input is exactly 0 fails the central difference there: the note
    names the element and the summary does not blame the derivative."""
    net = cr.Sequential([cr.Dense(2, 2, rng=0), cr.ReLU(), cr.Dense(2, 1, rng=1)])
    net.layers[0].W.value[...] = np.eye(2)
    net.layers[0].b.value[...] = 0.0
    report = gradcheck(net, np.array([[0.0, 1.0], [2.0, -1.0]]), np.array([[1.0], [0.0]]), "mse")
    assert not report.passed and report.kinks == [2]
    assert report.notes[0] == ("kink: 1 input of ReLU() (position 2 in the network) within 10·eps of a kink of its "
                               "function (its one-sided slopes differ), at (0, 0): there the central difference "
                               "straddles the kink, so a correct derivative can look wrong; move those inputs away "
                               "from the kink")
    assert report.summary().endswith("which has inputs at its kink (see the note): probably the central difference "
                                     "straddling the kink, not a wrong derivative")
    away = gradcheck(net, np.array([[0.5, 1.0], [2.0, -1.0]]), np.array([[1.0], [0.0]]), "mse")
    assert away.passed and away.notes == [] and away.kinks == []


def test_a_large_loss_puts_failures_within_rounding_down_to_rounding():
    """An MSE near 2000 makes each central difference carry ~4e-7 of rounding at eps 1e-6, over
    tol 1e-7: the report says so instead of sending the learner to a correct backward."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=100, n_features=1, noise=10, random_state=0)
    net = cr.mlp([1, 1], rng=1)
    report = gradcheck(net, X, y.reshape(-1, 1), "mse")
    assert not report.passed and 1e-7 < report.rounding_error < 1e-6
    assert any(note.startswith("rounding: the objective is large") for note in report.notes)
    assert report.origin().endswith("but every failure is within the central differences' rounding error (see the "
                                    "note): probably not a wrong derivative")
    assert gradcheck(net, X, y.reshape(-1, 1), "mse", eps=1e-3).passed  # exact for a quadratic loss
    small = gradcheck(net, X / 100, y.reshape(-1, 1) / 100, "mse")
    assert small.passed and small.notes == []


def test_without_input_checks_a_kink_after_the_failing_layer_is_named():
    net = cr.Sequential([cr.Dense(2, 2, rng=0), cr.ReLU(), cr.Dense(2, 1, rng=1)])
    net.layers[0].W.value[...] = np.eye(2)
    net.layers[0].b.value[...] = 0.0
    report = gradcheck(net, np.array([[0.0, 1.0], [2.0, -1.0]]), np.array([[1.0], [0.0]]), "mse", inputs=False)
    assert not report.passed and report.kinks == [2]
    assert report.origin().startswith("It starts at W[1] [Dense(2→2)] (position 1 in the network), but its failing "
                                      "elements sit at a kink of the loss (the layer at position 2 has inputs at a "
                                      "kink)")
