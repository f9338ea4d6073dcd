"""Findings of the learner audit of explain, gradcheck and CustomActivation, one test each."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.inspect import explain, gradcheck


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _kinked_net(function, derivative, label):
    """The audit's network: Dense with W = [[1, 0], [0, 1], [1, 1]], b = 0, so that the inputs
    X = [[0, 1], [1, 0], [2, -1]] put two pre-activations exactly at 0."""
    act = cr.CustomActivation(function, derivative, label=label)
    net = cr.Sequential([cr.Dense.from_arrays([[1, 0], [0, 1], [1, 1]], [0, 0, 0]), act, cr.Dense(3, 1, rng=1)])
    return net, np.array([[0.0, 1.0], [1.0, 0.0], [2.0, -1.0]]), np.ones((3, 1))


@pytest.mark.parametrize("function, derivative", [
    (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
    (np.abs, np.sign),
])
def test_a_custom_activation_at_its_kink_is_found_from_the_numbers(function, derivative):
    net, X, y = _kinked_net(function, derivative, "mine")
    report = gradcheck(net, X, y, "mse")
    assert not report.passed and report.kinks == [2]
    assert any(note.startswith("kink: 2 inputs of CustomActivation('mine') (position 2 in the network)")
               for note in report.notes)
    assert "probably the central difference straddling the kink, not a wrong derivative" in report.origin()
    assert "look at that layer's backward" not in report.origin()
    # away from the kink the same activation passes and no kink is reported
    moved = gradcheck(net, X + 0.25, y, "mse")
    assert moved.passed and moved.kinks == [] and not any("kink" in note for note in moved.notes)


def test_smooth_activations_have_no_kinks(rng):
    for act in (cr.Tanh(), cr.Sigmoid(), cr.CustomActivation(np.tanh, lambda z: 1 - np.tanh(z) ** 2)):
        net = cr.Sequential([cr.Dense(2, 3, rng=0), act, cr.Dense(3, 1, rng=1)])
        report = gradcheck(net, np.zeros((2, 2)), np.ones((2, 1)), "mse")
        assert report.passed and report.kinks == []


def test_a_derivative_off_by_half_a_percent_on_small_gradients_fails(rng):
    """The audit's run7.py: targets 1e-5 from the output keep every gradient small."""
    X = rng.normal(size=(4, 2))
    reports = {}
    for c in (1.0, 1.005):
        act = cr.CustomActivation(np.tanh, lambda z, c=c: c * (1 - np.tanh(z) ** 2), label=f"tanh_x{c}")
        net = cr.Sequential([cr.Dense(2, 3, rng=1), act, cr.Dense(3, 1, rng=2)])
        out = net.forward(X)
        reports[c] = gradcheck(net, X, out + 1e-5 * rng.normal(size=out.shape), "mse")
    assert reports[1.0].passed and not reports[1.0].unresolved  # the correct derivative still passes
    wrong = reports[1.005]
    assert not wrong.passed and wrong["dZ[1]"].status == "FAILED"
    assert abs(wrong["dZ[1]"].rel_error - 0.005 / 2.005) < 1e-4
    assert "It starts at dZ[1] [CustomActivation('tanh_x1.005')]" in wrong.summary()


def test_a_bias_before_batchnorm_is_zero_by_structure_not_unresolved(rng):
    net = cr.Sequential([cr.Dense(3, 4, rng=0), cr.BatchNorm(4), cr.Tanh(), cr.Dense(4, 1, rng=1)])
    report = gradcheck(net, rng.normal(size=(6, 3)), rng.normal(size=(6, 1)), "mse")
    assert report.passed and report.unresolved == []
    assert report["b[1]"].zero and report["b[1]"].status == "zero"
    assert "1 zero (b[1]: analytic and numeric gradients both vanish" in report.summary()
    assert "too small to test" not in report.summary()


def test_failures_name_the_position_in_the_network_not_a_layer_number(rng):
    wrong = cr.CustomActivation(np.tanh, lambda z: 2 * (1 - np.tanh(z) ** 2), label="w")
    net = cr.Sequential([cr.Dense(2, 3, rng=0), wrong, cr.Dense(3, 1, rng=1)])
    origin = gradcheck(net, rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), "mse").origin()
    assert "dZ[1] [CustomActivation('w')] (position 2 in the network)" in origin and "(layer 2)" not in origin


def test_a_derivative_written_for_the_output_is_recognised():
    """Seeds 000/001 define sigmoid_derivative(x) = x (1 - x) for x = σ(z)."""
    act = cr.CustomActivation(sigmoid, lambda x: x * (1 - x), label="seed_sigmoid")
    net = cr.Sequential([cr.Dense(2, 3, rng=0), act, cr.Dense(3, 1, rng=1)])
    rng = np.random.default_rng(0)
    report = gradcheck(net, rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), "mse")
    assert not report.passed
    assert any("its derivative gives the slope when handed the output a = g(z), not z" in n for n in report.notes)
    assert "its derivative is written for the output a = g(z), not z" in report.origin()
    # a derivative wrong in another way gets no such note
    other = cr.CustomActivation(sigmoid, lambda z: 2 * sigmoid(z) * (1 - sigmoid(z)), label="double")
    report = gradcheck(cr.Sequential([cr.Dense(2, 3, rng=0), other, cr.Dense(3, 1, rng=1)]),
                       rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), "mse")
    assert not report.passed and not any("handed the output" in n for n in report.notes)


def test_a_non_finite_forward_or_backward_is_refused_naming_the_layer():
    with pytest.raises(ValueError, match=r"the loss is ±inf \(an overflow"):
        gradcheck(cr.Sequential([cr.Dense.from_arrays([[1e200, 1e200]])]), [[1.0, 2.0]], [[0.8]])
    nan = cr.CustomActivation(lambda z: z * 0 / (z * 0), lambda z: z, label="nan")
    with pytest.raises(ValueError, match=r"CustomActivation\('nan'\) at position 2 in the network outputs NaN "
                                         r"\(an undefined 0/0"):
        gradcheck(cr.Sequential([cr.Dense(2, 2, rng=0), nan]), [[1.0, 2.0]])
    steep = cr.CustomActivation(np.cbrt, lambda z: 1 / (3 * np.cbrt(z) ** 2), label="cbrt")
    with pytest.raises(ValueError, match=r"backward pass is not finite: CustomActivation\('cbrt'\) at position 2"):
        gradcheck(cr.Sequential([cr.Dense.from_arrays([[1.0, -1.0]]), steep]), [[1.0, 1.0]])


def test_gradcheck_json_of_an_overflowing_config_is_one_line_not_a_crash(tmp_path, capsys):
    from chainrule.cli import main

    config = tmp_path / "over.json"
    config.write_text(json.dumps({"x": [1, 2], "y": 0.8, "layers": [{"W": [[1e200, 1e200]]}]}))
    code = main(["gradcheck", "--config", str(config), "--json"])
    err = capsys.readouterr().err
    assert code != 0 and "the loss is ±inf" in err and "JSON compliant" not in err


def test_tiny_eps_is_named_and_tol_is_bounded(rng, capsys):
    report = gradcheck(cr.mlp([2, 3, 1], "tanh", rng=0), rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), eps=1e-12)
    assert any(note.startswith("rounding: the step eps = 1e-12 is tiny") for note in report.notes)
    assert not any("the objective is large" in note for note in report.notes)
    with pytest.raises(ValueError, match="tol must be below 0.1"):
        gradcheck(cr.mlp([2, 1], rng=0), np.ones((2, 2)), tol=10)
    from chainrule.cli import main

    for tol in ("10", "1e-20"):
        assert main(["gradcheck", "--tol", tol]) == 2
        err = capsys.readouterr().err
        assert "--tol" in err and "must be from 1e-12 to below 0.1" in err and err.count("\n") == 1


@pytest.mark.parametrize("function, message", [
    (lambda z: np.tanh(z).astype(np.float32), r"returned float32 values for float64 z"),
    (lambda z: np.tanh(z) + 0j, r"returned values of dtype complex128 \(complex numbers\)"),
    (lambda z: np.asmatrix(np.tanh(z)), r"returned a numpy.matrix"),
    (lambda z: [float(np.tanh(v)) for v in z.reshape(-1)], r"returned a list"),
])
@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")  # np.asmatrix on purpose
def test_custom_activation_results_must_be_real_arrays_of_zs_precision(function, message):
    act = cr.CustomActivation(function, lambda z: 1 - np.tanh(z) ** 2, label="mine")
    with pytest.raises(ValueError, match=r"CustomActivation\('mine'\): its function " + message) as exc:
        act.forward(np.ones((2, 3)))
    assert "use np.tanh, np.exp, np.where(z > 0, ...), which work on whole arrays" in str(exc.value)


def test_a_function_for_one_number_gets_the_array_hint():
    import math

    for function in (math.tanh, lambda z: z if z > 0 else 0 * z):
        with pytest.raises(ValueError, match=r"CustomActivation\('scalar'\): its function raised .*which work on "
                                             r"whole arrays\)"):
            cr.CustomActivation(function, lambda z: 1.0, label="scalar").forward(np.ones((2, 3)))


def test_boolean_derivatives_are_cast_to_zs_dtype():
    act = cr.CustomActivation(lambda z: np.maximum(z, 0), lambda z: z > 0, label="relu")
    z = np.array([[-1.0, 2.0]], dtype=np.float32)
    act.forward(z)
    assert act.derivative(z, None).dtype == np.float32 and act.backward(np.ones_like(z)).dtype == np.float32


@pytest.mark.parametrize("label", ["identity", "relu", "softmax", "leaky_relu"])
def test_a_custom_activation_gets_the_general_equations_whatever_its_label(label):
    act = cr.CustomActivation(np.tanh, lambda z: 1 - np.tanh(z) ** 2, label=label)
    net = cr.Sequential([cr.Dense.from_arrays([[0.5, -0.2], [0.3, 0.1]], [0.1, 0.0]), act,
                         cr.Dense.from_arrays([[2.0, 1.0]], [0.0])])
    t = explain(net, [1.0, 2.0], [0.3], loss="sse", lr=0.1)
    step = t.layer(1)
    assert step.custom and step.symbol == "g" and not step.is_identity
    assert step.equations["A"] == f"A[1] = g(Z[1])   (g: the custom activation {label!r})"
    assert step.equations["dZ"] == "dZ[1] = dA[1] * g'(Z[1])"
    assert step.latex["A"].startswith(r"A^{[1]} = g\left(Z^{[1]}\right)") and r"\operatorname" not in step.latex["A"]
    np.testing.assert_allclose(step.A, np.tanh(step.Z))  # the numbers are the function's, as the equations say
    text = t.to_text(width=250)
    assert f"(custom {label!r})" in text and "g'(Z[1])" in text
    assert json.loads(t.to_json())["layers"][0]["custom"] is True
    assert not explain(cr.Sequential([cr.Dense(2, 2, rng=0), cr.Tanh()]), [1.0, 2.0], [0.1, 0.2]).layer(1).custom


def test_custom_latex_labels_are_readable():
    act = cr.CustomActivation(lambda z: z * np.tanh(z), lambda z: np.tanh(z) + z * (1 - np.tanh(z) ** 2),
                              label="x·tanh(x)_v2")
    t = explain(cr.Sequential([cr.Dense(2, 1, rng=0), act]), [1.0, 2.0], [0.3])
    assert r"\text{(g: custom x·tanh(x)\_v2)}" in t.layer(1).latex["A"]
    assert t.layer(1).equations["g_prime"] == "g'(Z[1])   (the derivative given to 'x·tanh(x)_v2', at Z[1])"


def test_explain_tells_nan_from_overflow():
    nan = cr.CustomActivation(lambda z: z * 0 / (z * 0), lambda z: z, label="nan")
    t = explain(cr.Sequential([cr.Dense.from_arrays([[1.0, 1.0]], [0.0]), nan]), [1.0, 2.0], [0.3])
    assert t.first_non_finite() == {"nan": "A[1]"}
    text = t.to_text(width=200)
    assert "NaN (an undefined 0/0, inf − inf or 0·inf) first in A[1]" in text and "overflow" not in text
    big = explain(cr.Sequential([cr.Dense.from_arrays([[1e200, 1e200]], [0.0])]), [1e200, 1e200], [0.0])
    assert big.first_non_finite()["inf"] == "Z[1]"
    assert "±inf (an overflow of the float64 range, or a division by zero) first in Z[1]" in big.to_text(width=200)


def test_an_update_hidden_by_rounding_is_shown_with_more_digits():
    net = cr.Sequential([cr.Dense.from_arrays([[0.5, -0.2]], [0.1])])
    t = explain(net, [1.0, 2.0], [0.3], loss="sse", lr=1e-12)
    from chainrule.inspect.explain_render import matrix_text

    assert matrix_text(t.layer(1).W_new) == matrix_text(t.layer(1).W)  # at 10 digits the change vanishes
    text = t.to_text(width=250)
    from chainrule.inspect.explain_render import number

    assert "(shown with 13 digits: the change is below the 10 shown elsewhere)" in text
    shown = number(t.layer(1).W_new[0, 0], 13)
    assert shown != number(t.layer(1).W[0, 0], 13) and shown in text and shown in t.to_markdown()
    assert "digits: the change is below" not in explain(net, [1.0, 2.0], [0.3], loss="sse", lr=0.1).to_text(width=250)


def test_float32_says_how_many_digits_it_holds():
    net = cr.Sequential([cr.Dense.from_arrays([[0.5, -0.2]], [0.1])], dtype="float32")
    t = explain(net, [1.0, 2.0], [0.3], loss="sse", lr=0.1)
    text = t.to_text(width=250)
    assert "Numbers are shown with 7 significant digits (float32 holds about 7)" in text
    ten = format(float(t.layer(1).Z[0, 0]), ".10g")
    assert ten != "0.2" and ten not in text and "│ [0.2]" in text  # float32 rounding noise is not printed


def test_huber_delta_and_residual_are_defined():
    net = cr.Sequential([cr.Dense.from_arrays([[0.5, -0.2]], [0.1])])
    t = explain(net, [1.0, 2.0], [0.9], loss=cr.losses.Huber(0.3))
    assert "Huber δ = 0.3 and r = ŷ − y" in t.to_text(width=250)
    assert r"Huber $\delta = 0.3$ and $r = \hat y - y$" in t.to_markdown()
    assert json.loads(t.to_json())["loss"]["parameters"] == {"delta": 0.3}


def test_the_notation_defines_dx_n_and_k():
    t = explain(cr.Sequential([cr.Dense(2, 3, rng=0)]), [[1.0, 2.0], [0.0, 1.0]], np.zeros((2, 3)))
    text = t.to_text(width=300)
    assert "dX means ∂L/∂X" in text and "n = 2 is the number of samples and k = 3 the number of outputs" in text


def test_the_config_description_is_shown_in_every_format(tmp_path, capsys):
    from chainrule.cli import main

    config = tmp_path / "c.json"
    config.write_text(json.dumps({"x": [1, 2], "y": 0.8, "layers": [{"W": [[0.5, 0.3]]}],
                                  "description": "Exercise 1 by hand"}))
    for fmt in ("text", "markdown"):
        assert main(["explain", "--config", str(config), "--format", fmt]) == 0
        assert "Description: Exercise 1 by hand" in capsys.readouterr().out
    assert main(["explain", "--config", str(config), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["description"] == "Exercise 1 by hand"


def test_a_one_hot_row_for_one_example_gets_a_hint():
    from chainrule.inspect import parse_config

    data = {"x": [1, 2], "y": [0, 1, 0], "layers": [{"W": [[0.5, 0.3], [0.2, 0.8], [0.1, 0.1]]}],
            "loss": "cross_entropy"}
    with pytest.raises(ValueError, match=r"has 3 target\(s\) but x has 1 example\(s\); for one example with the "
                                         r"one-hot target \[0, 1, 0\], write it as a row \[\[0, 1, 0\]\] or as the "
                                         r"class index 1"):
        parse_config(data)
    assert parse_config({**data, "y": [[0, 1, 0]]}).y.shape == (1, 3)
