"""explain(): one step of backprop, every number, checked against an independent hand
calculation (plain NumPy written out here) and PyTorch autograd."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.inspect import SCHEMA, explain, load_config, parse_config

EXERCISE_1 = Path(__file__).resolve().parent.parent / "examples" / "exercise_1_hand_calculation.json"


def hand_calculation(loss: str):
    """Seed 002 Exercise 1 by hand: x = [1, 2], W₁ = [[.5, .3], [.2, .8]], b₁ = [.1, .4],
    W₂ = [[.9, .7]], b₂ = [.2], sigmoid everywhere, y = 0.8, α = 0.1."""
    def s(v):
        return 1.0 / (1.0 + np.exp(-v))

    x = np.array([1.0, 2.0])
    W1, b1 = np.array([[0.5, 0.3], [0.2, 0.8]]), np.array([0.1, 0.4])
    W2, b2 = np.array([[0.9, 0.7]]), np.array([0.2])
    y, lr = 0.8, 0.1
    z1 = np.array([0.5 * 1 + 0.3 * 2 + 0.1, 0.2 * 1 + 0.8 * 2 + 0.4])  # [1.2, 2.2]
    a1 = s(z1)
    z2 = np.array([0.9 * a1[0] + 0.7 * a1[1] + 0.2])
    a2 = s(z2)
    if loss == "mse":  # J = mean((ŷ - y)²) = (ŷ - y)² for one output and one example
        J, dA2 = (a2[0] - y) ** 2, 2 * (a2 - y)
    else:  # "sse": J = ½ (ŷ - y)²
        J, dA2 = 0.5 * (a2[0] - y) ** 2, a2 - y
    dZ2 = dA2 * a2 * (1 - a2)
    dW2 = np.array([[dZ2[0] * a1[0], dZ2[0] * a1[1]]])
    db2 = dZ2.copy()
    dA1 = W2[0] * dZ2[0]
    dZ1 = dA1 * a1 * (1 - a1)
    dW1 = np.outer(dZ1, x)
    db1 = dZ1.copy()
    return {
        "z1": z1, "a1": a1, "z2": z2, "a2": a2, "J": J, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
        "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1, "dX": W1.T @ dZ1,
        "W1_new": W1 - lr * dW1, "b1_new": b1 - lr * db1, "W2_new": W2 - lr * dW2, "b2_new": b2 - lr * db2,
    }


def exercise_trace(loss="mse"):
    config = load_config(EXERCISE_1)
    return explain(config.network(), config.x, config.y, loss=loss, lr=config.lr)


@pytest.mark.parametrize("loss", ["mse", "sse"])
def test_exercise_1_matches_the_hand_calculation(loss):
    hand = hand_calculation(loss)
    t = exercise_trace(loss)
    l1, l2 = t.layer(1), t.layer(2)
    close = {"rtol": 1e-12, "atol": 1e-15}
    np.testing.assert_allclose(l1.Z[0], hand["z1"], **close)
    np.testing.assert_allclose(l1.A[0], hand["a1"], **close)
    np.testing.assert_allclose(l2.Z[0], hand["z2"], **close)
    np.testing.assert_allclose(l2.A[0], hand["a2"], **close)
    assert t.loss_value == pytest.approx(hand["J"], rel=1e-12)
    np.testing.assert_allclose(l2.dA[0], hand["dA2"], **close)
    np.testing.assert_allclose(l2.dZ[0], hand["dZ2"], **close)
    np.testing.assert_allclose(l2.dW, hand["dW2"], **close)
    np.testing.assert_allclose(l2.db, hand["db2"], **close)
    np.testing.assert_allclose(l2.dA_prev[0], hand["dA1"], **close)
    np.testing.assert_allclose(l1.dA[0], hand["dA1"], **close)
    np.testing.assert_allclose(l1.dZ[0], hand["dZ1"], **close)
    np.testing.assert_allclose(l1.dW, hand["dW1"], **close)
    np.testing.assert_allclose(l1.db, hand["db1"], **close)
    np.testing.assert_allclose(l1.dA_prev[0], hand["dX"], **close)
    for key, step, attr in (("W1_new", l1, "W_new"), ("b1_new", l1, "b_new"), ("W2_new", l2, "W_new"),
                            ("b2_new", l2, "b_new")):
        np.testing.assert_allclose(getattr(step, attr), hand[key], **close)
    # the documented numbers (docs/inspect.md) to 10 significant digits
    if loss == "mse":
        assert f"{hand['a2'][0]:.10g}" == "0.8208102942"
        assert f"{hand['J']:.10g}" == "0.0004330683468"
        assert f"{hand['dW2'][0, 0]:.10g}" == "0.004704591773"


def test_exercise_1_matches_pytorch_autograd():
    torch = pytest.importorskip("torch")
    t = exercise_trace("mse")
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    W1 = torch.tensor([[0.5, 0.3], [0.2, 0.8]], dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor([0.1, 0.4], dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor([[0.9, 0.7]], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([0.2], dtype=torch.float64, requires_grad=True)
    z1 = x @ W1.T + b1
    z1.retain_grad()
    a1 = torch.sigmoid(z1)
    z2 = a1 @ W2.T + b2
    z2.retain_grad()
    out = torch.sigmoid(z2)
    loss = torch.nn.functional.mse_loss(out, torch.tensor([[0.8]], dtype=torch.float64))
    loss.backward()
    assert t.loss_value == pytest.approx(loss.item(), rel=1e-14)
    for ours, theirs in ((t.layer(1).dW, W1.grad), (t.layer(1).db, b1.grad), (t.layer(2).dW, W2.grad),
                         (t.layer(2).db, b2.grad), (t.layer(1).dZ, z1.grad), (t.layer(2).dZ, z2.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-13, atol=1e-17)
    with torch.no_grad():
        np.testing.assert_allclose(t.layer(1).W_new, (W1 - 0.1 * W1.grad).numpy(), rtol=1e-14)


def test_text_report_shows_equations_convention_and_ten_digits():
    t = exercise_trace("mse")
    text = t.to_text()
    for equation in ("Z[1] = A[0] W[1]ᵀ + b[1]", "A[2] = σ(Z[2])", "dA[2] = 2 (A[2] − Y) / (n·k)",
                     "dZ[2] = dA[2] * σ'(Z[2])", "dW[2] = dZ[2]ᵀ A[1]", "db[2] = Σ_rows dZ[2]",
                     "dA[1] = dZ[2] W[2]", "W[1] ← W[1] − α dW[1]"):
        assert equation in text, equation
    assert cr.losses.MSE.convention in text
    hand = hand_calculation("mse")
    for value in (hand["a1"][0], hand["a2"][0], hand["dZ1"][1], hand["W1_new"][1, 1]):
        shown = f"{value:.10g}"
        assert shown in text
        assert len(shown.lstrip("0.").replace(".", "")) >= 8  # significant digits
    sse = exercise_trace("sse").to_text()
    assert "dA[2] = A[2] − Y" in sse and cr.losses.SumSquaredError.convention in sse


def test_markdown_has_latex_equations_with_values():
    md = exercise_trace().to_markdown()
    assert md.startswith("# One step of backpropagation")
    assert r"$$dZ^{[2]} = dA^{[2]} \odot \sigma'\left(Z^{[2]}\right) = \begin{bmatrix}0.006121587584\end{bmatrix}$$" in md
    assert r"dW^{[1]} = dZ^{[1]\top} A^{[0]}" in md
    assert md.count("$$") % 2 == 0 and md.count("$$") >= 2 * 20


def test_json_follows_the_documented_schema():
    t = exercise_trace()
    data = json.loads(t.to_json())
    assert data["schema"] == SCHEMA == "chainrule.explain/1"
    assert data["sizes"] == [2, 2, 1] and data["n_samples"] == 1 and data["lr"] == 0.1
    assert set(data["loss"]) == {"name", "formula", "convention", "gradient", "gradient_latex", "value", "penalty",
                                 "regularised_value", "parameters"}
    layer_keys = {"l", "n_in", "n_out", "activation", "custom", "symbol", "formula", "derivative_formula", "A_prev", "W", "b",
                  "Z", "A", "g_prime", "dA", "dZ", "dW", "db", "dA_prev", "W_new", "b_new", "equations", "latex"}
    assert [set(layer) for layer in data["layers"]] == [layer_keys, layer_keys]
    assert data["layers"][1]["dW"] == t.layer(2).dW.tolist()  # full precision
    assert data["layers"][0]["equations"]["dZ"] == "dZ[1] = dA[1] * σ'(Z[1])"
    assert data["output"] == data["layers"][1]["A"]


def test_trace_is_what_training_does_on_a_batch(rng):
    net = cr.mlp([3, 5, 4, 2], activation="tanh", rng=1)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    before = net.get_weights()
    t = explain(net, X, y, loss="mse", lr=0.05)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))  # not modified
    trained = copy.deepcopy(net.get_weights())
    net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(lr=0.05), epochs=1, verbose=0, shuffle=False)
    after = net.get_weights()
    expected = [a for step in t.layers for a in (step.W_new, step.b_new)]
    for got, want in zip(after, expected):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    net.set_weights(trained)
    t2 = explain(net, X, y, loss="mse", lr=0.05, inplace=True)
    np.testing.assert_allclose(net.get_weights()[0], t2.layer(1).W_new)


@pytest.mark.parametrize("penalty", [{"l2": 0.3}, {"l1": 0.2}, {"l1": 0.1, "l2": 0.05}])
def test_penalised_step_is_what_training_does(rng, penalty):
    net = cr.mlp([3, 4, 2], activation="sigmoid", rng=2)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    t = explain(net, X, y, loss="mse", lr=0.1, **penalty)
    net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(lr=0.1, **penalty), epochs=1, verbose=0, shuffle=False)
    expected = [a for step in t.layers for a in (step.W_new, step.b_new)]
    for got, want in zip(net.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    l1, l2 = penalty.get("l1", 0.0), penalty.get("l2", 0.0)
    for step in t.layers:  # by hand: the penalty acts on W only, dW stays the data term's
        np.testing.assert_allclose(step.W_new, step.W - 0.1 * (step.dW + l1 * np.sign(step.W) + l2 * step.W), rtol=1e-14)
        np.testing.assert_allclose(step.b_new, step.b - 0.1 * step.db, rtol=1e-14)
    data = t.to_dict()
    assert (data["l1"], data["l2"]) == (l1, l2)
    assert ("sign(W[l])" in t.update_rule) == bool(l1) and (f"{l2:g} W[l]" in t.update_rule) == bool(l2)
    assert "W[2] ← W[2] − α (dW[2] + " in t.layer(2).equations["W_new"]


def test_trace_uses_the_layers_own_backward():
    """A custom activation with a deliberately wrong derivative shows up in the trace as is:
    the trace runs the network's layers, it does not recompute the algorithm itself."""
    wrong = cr.CustomActivation(np.tanh, lambda z: np.full_like(z, 3.0), label="wrong_tanh")
    net = cr.Sequential([cr.Dense.from_arrays([[0.5, -0.2]], [0.1]), wrong, cr.Dense.from_arrays([[2.0]], [0.0])])
    t = explain(net, [1.0, 2.0], [0.3], loss="sse", lr=0.1)
    np.testing.assert_allclose(t.layer(1).dZ, 3.0 * t.layer(1).dA)
    np.testing.assert_allclose(t.layer(1).g_prime, [[3.0]])
    assert "g'(Z[1])   (the derivative given to 'wrong_tanh', at Z[1])" in t.to_text(width=200)


def test_logit_losses_show_the_probabilities(rng):
    net = cr.mlp([2, 3, 1], activation="relu", rng=0)
    X, y = rng.normal(size=(4, 2)), np.array([0, 1, 1, 0])
    t = explain(net, X, y, loss="bce", lr=0.1)
    p = 1 / (1 + np.exp(-t.output))
    np.testing.assert_allclose(t.prediction, p)
    np.testing.assert_allclose(t.layer(2).dA, (p - y[:, None]) / 4)
    assert "(ŷ − Y) / (n·k) with ŷ = σ(A[2])" in t.to_text() and "the lecture's dZ[2] = (ŷ − Y)/m" in t.to_text()
    net3 = cr.Sequential([cr.Dense(2, 3, rng=0), cr.Softmax()])
    t3 = explain(net3, X, np.eye(3)[[0, 1, 2, 0]], loss="mse", lr=0.1)
    assert t3.layer(1).g_prime is None and "softmax Jacobian" in t3.to_text()


def test_bad_networks_and_arguments_are_refused(rng):
    X, y = rng.normal(size=(3, 2)), rng.normal(size=(3, 1))
    with pytest.raises(TypeError, match="BatchNorm.*not supported"):
        explain(cr.Sequential([cr.Dense(2, 2), cr.BatchNorm(2), cr.Dense(2, 1)]), X, y)
    with pytest.raises(ValueError, match="second activation"):
        explain(cr.Sequential([cr.Dense(2, 1), cr.Tanh(), cr.Sigmoid()]), X, y)
    with pytest.raises(ValueError, match="lr must be"):
        explain(cr.mlp([2, 1]), X, y, lr=0)
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        explain(cr.mlp([2, 1]), X, y, l2=-0.1)
    with pytest.raises(ValueError, match="l1 must be"):
        explain(cr.mlp([2, 1]), X, y, l1=float("nan"))
    with pytest.raises(ValueError, match="2 features but the network.s first layer takes 3"):
        explain(cr.mlp([3, 1]), X, y)
    with pytest.raises(ValueError, match="remove the final Sigmoid"):
        explain(cr.mlp([2, 1], output_activation="sigmoid"), X, (y > 0).astype(float), loss="bce")
    with pytest.raises(TypeError, match="Sequential"):
        explain(cr.Dense(2, 1), X, y)


GOOD = {"x": [1, 2], "y": 0.5, "layers": [{"W": [[1, 2], [3, 4]], "b": [0, 0], "activation": "tanh"},
                                         {"W": [[1, 1]], "b": [0], "activation": "identity"}]}


@pytest.mark.parametrize("change, message", [
    (lambda c: c["layers"][1].update(W=[[1, 1, 1]]), "layer 2: field 'W': has 3 column(s) (inputs) but layer 1 has 2"),
    (lambda c: c["layers"][0].update(W=[[1, 2, 3], [3, 4, 5]]), "layer 1: field 'W': has 3 column(s) (inputs) but x has 2"),
    (lambda c: c["layers"][0].update(activation="sigmod"), "layer 1: field 'activation': unknown activation 'sigmod'"),
    (lambda c: c["layers"][1].update(W=[["a", 1]]), "layer 2: field 'W': [0][0] is 'a', not a number"),
    (lambda c: c["layers"][0].update(b=[0, 0, 0]), "layer 1: field 'b': has 3 entries but W has 2 row(s)"),
    (lambda c: c["layers"][0].update(W=[[1, 2], [3]]), "layer 1: field 'W': rows have different lengths"),
    (lambda c: c["layers"][1].update(weights=1), "layer 2: unknown field 'weights'"),
    (lambda c: c["layers"][1].pop("W"), "layer 2: missing field 'W'"),
    (lambda c: c.update(y=[1, 2]), "field 'y'"),
    (lambda c: c.update(x=[1, True]), "field 'x': [1] is True, not a number"),
    (lambda c: c.update(lr=-1), "field 'lr': must be a number > 0"),
    (lambda c: c.update(loss="l2"), "field 'loss': unknown loss 'l2'"),
    (lambda c: c.update(loss="cross_entropy"), "layer 2: field 'W': loss cross_entropy needs at least 2 outputs"),
    (lambda c: c.update(loss="hinge"), "field 'y': Hinge needs targets of -1 or +1 (map class 0 to -1), got 0.5 (loss"),
    (lambda c: c.update(epochs=3), "unknown field 'epochs'"),
    (lambda c: c.pop("layers"), "missing field 'layers'"),
])
def test_config_errors_name_the_layer_and_field(change, message):
    config = copy.deepcopy(GOOD)
    change(config)
    with pytest.raises((ValueError, TypeError)) as info:
        parse_config(config, "cfg.json")
    text = str(info.value)
    assert message in text and text.startswith("cfg.json") and "\n" not in text


def test_config_files_load_and_reject_bad_json(tmp_path):
    config = load_config(EXERCISE_1)
    assert config.loss == "mse" and config.lr == 0.1 and config.y.shape == (1, 1)
    assert "Exercise 1" in config.description
    bad = tmp_path / "bad.json"
    bad.write_text('{"x": [1, 2], "y": NaN, "layers": []}')
    with pytest.raises(ValueError, match="NaN is not allowed"):
        load_config(bad)
    bad.write_text('{"x": [1, 2],, }')
    with pytest.raises(ValueError, match="not valid JSON.*line 1"):
        load_config(bad)


def test_text_report_keeps_brackets_of_formulas_and_values(rng):
    """rich must not read "[y log σ(z) ...]" or "[inf, 1]" as markup and drop it."""
    X, y = rng.normal(size=(3, 2)), np.array([0, 1, 1])
    bce = explain(cr.mlp([2, 3, 1], activation="tanh", rng=0), X, y, loss="bce").to_text(width=200)
    assert "Σ [y log σ(z) + (1 - y) log(1 - σ(z))]   with z = A[2] (the logits)" in bce
    ce = explain(cr.mlp([2, 3, 3], activation="tanh", rng=0), X, y, loss="cross_entropy").to_text(width=200)
    assert "log softmax(z_i)[y_i]" in ce
    sse = explain(cr.mlp([2, 1], rng=0), X, y[:, None] * 1.0, loss="sse").to_text(width=200)
    assert "│E " in sse and "with ŷ = A[1]" in sse


def test_an_overflowing_step_is_shown_and_named_not_hidden():
    net = cr.Sequential([cr.Dense.from_arrays(np.array([[1e200, 1e200]]), np.array([0.0]))])
    t = explain(net, np.array([[1e200, 1e200]]), np.array([0.0]), loss="mse")  # no RuntimeWarning (an error here)
    assert t.non_finite[:4] == ["Z[1]", "A[1]", "L", "dA[1]"] and "W[1] (updated)" in t.non_finite
    text = t.to_text(width=200)
    assert ("Warning: this step is not finite: ±inf (an overflow of the float64 range, or a division by zero) first in "
            "Z[1]" in text) and "[inf]" in text and "[-inf, -inf]" in text
    assert json.loads(t.to_json())["non_finite"] == t.non_finite
    assert exercise_trace().non_finite == []


def test_bce_and_hinge_formulas_average_over_all_outputs(rng):
    X, y = rng.normal(size=(3, 2)), rng.integers(0, 2, size=(3, 2)).astype(float)
    t = explain(cr.mlp([2, 3, 2], activation="tanh", rng=0), X, y, loss="bce")
    p = 1 / (1 + np.exp(-t.output))
    np.testing.assert_allclose(t.layer(2).dA, (p - y) / 6)  # n·k = 6
    by_hand = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert t.loss_value == pytest.approx(by_hand, rel=1e-12)
    assert "(1/(n k))" in t.loss_formula and "(1/(n k))" in cr.losses.Hinge.formula


def test_submodules_are_reachable_from_the_package_without_importing_them_early():
    import subprocess
    import sys

    code = ("import sys, chainrule as cr; assert 'matplotlib' not in sys.modules and 'chainrule.plot' not in sys.modules; "
            "cr.plot.gradient_flow; cr.io.read_header; cr.datasets.moons; cr.estimators.NeuralNetClassifier; "
            "assert 'plot' in dir(cr)")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("loss, k", [("bce", 1), ("bce", 2), ("cross_entropy", 3)])
def test_logit_losses_say_how_the_lectures_output_layer_maps_onto_the_trace(loss, k):
    """The lecture's output layer applies σ (softmax) itself, with dZ[L] = A[L] − Y and 1/m in
    dW and db: the note's factor must turn this trace's dZ into the lecture's, with equal dW."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4, 2))
    y = rng.integers(0, 2, size=(4, k)) if loss == "bce" else rng.integers(0, k, size=4)
    net = cr.mlp([2, 3, k], activation="sigmoid", rng=0)
    trace = explain(net, X, y, loss)
    out = trace.layer(2)
    if loss == "bce":
        A_lecture, Y, factor = 1 / (1 + np.exp(-out.Z)), y, 4 * k
    else:
        A_lecture = np.exp(out.Z) / np.exp(out.Z).sum(axis=1, keepdims=True)
        Y, factor = np.eye(k)[y], 4
    dZ_lecture = A_lecture - Y
    np.testing.assert_allclose(dZ_lecture, factor * out.dZ, rtol=1e-12)
    # the lecture's dW keeps 1/m, m the samples: k× the trace's for k sigmoid outputs (it sums
    # their losses; bce averages them), the same for one output and for softmax
    dW_lecture = dZ_lecture.T @ out.A_prev / 4
    times = k if loss == "bce" else 1
    np.testing.assert_allclose(dW_lecture, times * out.dW, rtol=1e-12)
    text = trace.to_text(width=400)
    assert f"its dZ and dA are {'n·k' if loss == 'bce' else 'n'} = {factor} times these" in text
    if times == 1:
        assert "dW, db and the update are the same." in text
    else:
        assert f"its dW, db and update are k = {k} times these" in text and "the same" not in text
    assert "The lecture's output layer" not in explain(net, X, y if loss == "bce" else np.eye(k)[y], "mse").to_text()


def test_the_lecture_note_names_db_only_when_the_output_layer_has_a_bias():
    X, y = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([1.0, 0.0])
    net = cr.Sequential([cr.Dense(2, 3, rng=0), cr.Sigmoid(), cr.Dense(3, 1, bias=False, rng=1)])
    text = explain(net, X, y, "bce").to_text(width=400)
    assert "with 1/m in dW[2])" in text and "db" not in text.split("The lecture's output layer")[1].split("\n")[0]
    assert "dW and the update are the same." in text
    two = cr.Sequential([cr.Dense(2, 3, rng=0), cr.Sigmoid(), cr.Dense(3, 2, bias=False, rng=1)])
    text = explain(two, X, np.array([[1.0, 0.0], [0.0, 1.0]]), "bce").to_text(width=400)
    assert "its dW and update are k = 2 times these" in text


@pytest.mark.parametrize("width", [60, 110, 400])
def test_the_text_report_shows_every_number_at_any_width(width):
    # a section whose widest row does not fit is laid out row by row, the values wrapped
    # between numbers: nothing is cut off with "…", no line is wider than asked
    from rich.cells import cell_len

    from chainrule.inspect.explain_render import number

    rng = np.random.default_rng(0)
    net = cr.Sequential([cr.Dense(2, 8, rng=0), cr.Tanh(), cr.Dense(8, 8, rng=1), cr.Tanh(), cr.Dense(8, 1, rng=2)])
    trace = explain(net, rng.normal(size=(1, 2)), np.array([[1.0]]), "mse", lr=0.1)
    text = trace.to_text(width=width)
    assert "…" not in text
    assert max(cell_len(line.rstrip()) for line in text.splitlines()) <= width
    words = set(text.replace(",", " ").replace("[", " ").replace("]", " ").split())
    for layer in trace.layers:
        for array in (layer.Z, layer.A, layer.W, layer.dW, layer.dZ, layer.W_new):
            assert {number(v) for v in np.ravel(array)} <= words


def test_explain_on_a_terminal_takes_the_width_asked_for(tmp_path, monkeypatch, capsys):
    import json
    import sys

    from chainrule.cli import main

    config = tmp_path / "net.json"
    config.write_text(json.dumps({"x": [[0.3, -1.2]], "y": [[1.0]], "loss": "mse", "lr": 0.1, "layers": [
        {"W": np.round(np.random.default_rng(1).normal(size=(8, 2)), 4).tolist(), "b": [0.0] * 8, "activation": "tanh"},
        {"W": np.round(np.random.default_rng(2).normal(size=(1, 8)), 4).tolist(), "b": [0.0]}]}))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["explain", "--config", str(config), "--width", "70"]) == 0
    import re

    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # the terminal's colours
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 70 and "…" not in out


def test_leaky_relu_equations_write_the_slope_not_the_learning_rates_alpha():
    X, y = np.array([[1.0, -2.0], [-1.0, 0.5]]), np.array([[1.0], [0.0]])
    net = cr.Sequential([cr.Dense(2, 2, rng=0), cr.LeakyReLU(0.05), cr.Dense(2, 1, rng=1)])
    trace = explain(net, X, y, "mse", lr=0.1)
    layer = trace.layer(1)
    assert layer.equations["g_prime"] == "LeakyReLU'(Z[1]) = 1 if Z[1] > 0 else 0.05"
    assert layer.formula == "max(z, 0.05z)" and "α" not in layer.derivative_formula
    assert r"\text{ else } 0.05" in layer.latex["g_prime"]
    assert "learning rate α = 0.1" in trace.to_text(width=400)  # α keeps one meaning


def test_a_layer_without_activation_is_the_linear_output_only_at_the_end():
    X, y = np.array([[1.0, -2.0]]), np.array([[1.0]])
    net = cr.Sequential([cr.Dense(2, 2, rng=0), cr.Dense(2, 1, rng=1), cr.Sigmoid()])
    trace = explain(net, X, y, "mse")
    assert trace.layer(1).equations["dZ"] == "dZ[1] = dA[1]   (no activation: g'(z) = 1)"
    last = explain(cr.Sequential([cr.Dense(2, 3, rng=0), cr.Tanh(), cr.Dense(3, 1, rng=1)]), X, y, "mse")
    assert last.layer(2).equations["dZ"] == "dZ[2] = dA[2]   (linear output: g'(z) = 1)"


def test_a_constant_custom_derivative_is_shown_at_every_entry():
    X, y = np.array([[1.0, -2.0], [0.5, 0.25]]), np.array([[1.0], [0.0]])
    half = cr.CustomActivation(lambda z: 0.5 * z, lambda z: 0.5, label="half")
    trace = explain(cr.Sequential([cr.Dense(2, 3, rng=0), half, cr.Dense(3, 1, rng=1)]), X, y, "mse")
    np.testing.assert_array_equal(trace.layer(1).g_prime, np.full((2, 3), 0.5))
    assert json.loads(trace.to_json())["layers"][0]["g_prime"] == [[0.5] * 3] * 2


def test_the_penalised_loss_is_shown_with_l1_and_l2():
    """Seed 002's L_reg = L + λ/(2m) Σ‖W‖² for l2 = λ/m: the value whose gradient the update uses."""
    import json

    from chainrule.inspect import explain

    net = cr.mlp([2, 2, 1], "sigmoid", rng=0)
    X, y = np.array([[0.5, 1.0], [1.0, -1.0]]), np.array([1.0, 0.0])
    weights = [layer.W.value.copy() for layer in net.layers if isinstance(layer, cr.Dense)]
    trace = explain(net, X, y, "bce", lr=0.1, l1=0.01, l2=0.05)
    expected = trace.loss_value + 0.01 * sum(np.abs(W).sum() for W in weights) + 0.025 * sum((W ** 2).sum() for W in weights)
    assert trace.penalty > 0 and trace.loss_value + trace.penalty == pytest.approx(expected, rel=1e-14)
    assert "L_reg = L + 0.01 Σ_l Σ|W[l]| + (0.05/2) Σ_l ‖W[l]‖²" in trace.to_text()
    assert f"{expected:.10g}" in trace.to_text()
    assert r"L_{reg} = L + 0.01 \sum_l \sum |W^{[l]}| + \tfrac{0.05}{2} \sum_l" in trace.to_markdown()
    assert json.loads(trace.to_json())["loss"]["regularised_value"] == pytest.approx(expected, rel=1e-14)
    plain = explain(net, X, y, "bce", lr=0.1)
    assert plain.penalty == 0 and "L_reg" not in plain.to_text() and "reg}" not in plain.to_markdown()
