"""Optimizers: single steps computed by hand, penalties, clipping and schedules from the
base class, and trajectories against torch.optim where PyTorch is installed."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import Parameter
from chainrule.optim import OPTIMIZERS, get_optimizer


def param(value, grad, regularize=True):
    p = Parameter(np.array(value, dtype=float), "W", regularize=regularize)
    p.grad = np.array(grad, dtype=float)
    return p


def test_sgd_step_by_hand():
    p = param([1.0, -2.0], [0.5, -1.0])
    cr.optim.SGD(lr=0.1).step([p])
    np.testing.assert_allclose(p.value, [1.0 - 0.05, -2.0 + 0.1])


def test_momentum_two_steps_by_hand():
    p = param([1.0], [0.5])
    opt = cr.optim.SGD(lr=0.1, momentum=0.9)
    opt.step([p])  # v = 0.5; w = 1 - 0.05 = 0.95
    np.testing.assert_allclose(p.value, [0.95])
    p.grad = np.array([0.25])
    opt.step([p])  # v = 0.9*0.5 + 0.25 = 0.7; w = 0.95 - 0.07 = 0.88
    np.testing.assert_allclose(p.value, [0.88])


def test_nesterov_step_by_hand():
    p = param([1.0], [0.5])
    opt = cr.optim.SGD(lr=0.1, momentum=0.9, nesterov=True)
    opt.step([p])  # v = 0.5; w = 1 - 0.1*(0.5 + 0.9*0.5) = 0.905
    np.testing.assert_allclose(p.value, [0.905])


def test_adam_two_steps_by_hand():
    p = param([1.0], [0.5])
    opt = cr.optim.Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    opt.step([p])
    # m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25 -> w = 1 - 0.01 * 0.5 / (0.5 + 1e-8)
    np.testing.assert_allclose(p.value, [1 - 0.01 * 0.5 / (0.5 + 1e-8)], rtol=1e-14)
    p.grad = np.array([-1.0])
    opt.step([p])
    m = 0.9 * 0.05 + 0.1 * -1.0
    v = 0.999 * 0.00025 + 0.001 * 1.0
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    expected = 1 - 0.01 * 0.5 / (0.5 + 1e-8) - 0.01 * m_hat / (math.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(p.value, [expected], rtol=1e-12)


@pytest.mark.parametrize("beta1, beta2, eps", [(0.9, 0.999, 1e-8), (0.0, 0.5, 1e-3), (0.99, 0.0, 1e-8)])
def test_adam_is_the_textbook_update_over_many_steps(beta1, beta2, eps):
    """The CPU update keeps m/(1-β₁) and v/(1-β₂) to save passes; the steps must be Kingma & Ba's."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=50)
    p = param(w.copy(), np.zeros(50))
    opt = cr.optim.Adam(lr=0.01, beta1=beta1, beta2=beta2, eps=eps)
    m, v = np.zeros(50), np.zeros(50)
    for t in range(1, 41):
        g = rng.normal(size=50) * (1 + t % 3)
        p.grad = g.copy()
        opt.step([p])
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        w = w - 0.01 * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    np.testing.assert_allclose(p.value, w, rtol=1e-12, atol=1e-13)


def test_adam_moved_to_other_parameters_restarts_its_step_count():
    """Fresh moments with the old step count made the first step on new parameters 1.35× too
    large after 200 steps (tending to (1-β₁)/√(1-β₂) ≈ 3.16× for long runs)."""
    opt = cr.optim.Adam(lr=0.01)
    old = param([1.0], [0.5])
    for _ in range(200):
        opt.step([old])
    new, fresh = param([1.0], [0.5]), param([1.0], [0.5])
    opt.step([new])
    cr.optim.Adam(lr=0.01).step([fresh])
    assert opt.iterations == 1
    np.testing.assert_allclose(new.value, fresh.value, rtol=1e-15)


@pytest.mark.parametrize("name", ["adam", "momentum", "rmsprop"])
def test_a_pickled_optimizer_keeps_one_state_for_both_update_paths(name):
    """Flat (no penalty) and per-parameter (with l2) steps share the moments; after pickling
    the network with its optimizer they must still, or switching l2 on forks the state."""
    import pickle

    X = np.random.default_rng(0).normal(size=(32, 3))
    y = X @ [1.0, -1.0, 0.5]
    runs = []
    for pickled in (False, True):
        net, opt = cr.mlp([3, 4, 1], "tanh", rng=0), get_optimizer(name, lr=0.01)
        net.fit(X, y, loss="mse", optimizer=opt, epochs=3, verbose=0)
        if pickled:
            net, opt = pickle.loads(pickle.dumps((net, opt)))
        for l2 in (1e-2, 0.0, 1e-2):
            opt.l2 = l2
            net.fit(X, y, loss="mse", optimizer=opt, epochs=2, verbose=0, shuffle=False)
        runs.append(net.get_weights())
    for plain, unpickled in zip(*runs):
        np.testing.assert_array_equal(plain, unpickled)


def test_rmsprop_step_by_hand():
    p = param([1.0], [2.0])
    cr.optim.RMSprop(lr=0.01, rho=0.9, eps=1e-8).step([p])
    v = 0.1 * 4.0
    np.testing.assert_allclose(p.value, [1 - 0.01 * 2.0 / (math.sqrt(v) + 1e-8)])


def test_adamw_decays_weights_not_biases():
    w, b = param([1.0], [0.0]), param([1.0], [0.0], regularize=False)
    cr.optim.AdamW(lr=0.1, weight_decay=0.5).step([w, b])
    np.testing.assert_allclose(w.value, [0.95])  # 1 * (1 - 0.1 * 0.5), zero gradient
    np.testing.assert_allclose(b.value, [1.0])


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_penalties_and_clipping_live_in_the_base(name):
    """L2 and clipping change the gradient the same way for every optimizer."""
    opt_plain = get_optimizer(name, lr=0.1)
    opt_l2 = get_optimizer(name, lr=0.1, l2=0.5)
    a, b = param([2.0], [1.0]), param([2.0], [2.0])  # l2: 1 + 0.5*2 = 2
    opt_l2.step([a])
    opt_plain.step([b])
    np.testing.assert_allclose(a.value, b.value)


def test_l1_adds_sign_and_spares_biases():
    w, bias = param([-3.0], [0.0]), param([-3.0], [0.0], regularize=False)
    cr.optim.SGD(lr=0.1, l1=0.2).step([w, bias])
    np.testing.assert_allclose(w.value, [-3.0 + 0.02])
    np.testing.assert_allclose(bias.value, [-3.0])


def test_clip_by_global_norm_and_by_value():
    a, b = param([0.0], [3.0]), param([0.0], [4.0])
    opt = cr.optim.SGD(lr=1.0, clip_norm=1.0)
    opt.step([a, b])
    assert opt.last_grad_norm == pytest.approx(5.0)
    np.testing.assert_allclose([a.value[0], b.value[0]], [-0.6, -0.8], rtol=1e-9)
    c = param([0.0, 0.0], [3.0, -0.5])
    cr.optim.SGD(lr=1.0, clip_value=1.0).step([c])
    np.testing.assert_allclose(c.value, [-1.0, 0.5])


def test_gradients_are_not_modified_by_penalties_or_clipping():
    p = param([1.0], [10.0])
    cr.optim.SGD(lr=0.1, l2=1.0, clip_norm=1.0).step([p])
    np.testing.assert_array_equal(p.grad, [10.0])


def test_schedules():
    from chainrule.optim import CosineDecay, ExponentialDecay, ReduceOnPlateau, StepDecay

    assert [StepDecay(2, 0.5)(e, 1.0) for e in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    assert ExponentialDecay(0.9)(3, 2.0) == pytest.approx(2 * 0.9**3)
    cos = CosineDecay(period=10, min_lr=0.1)
    assert cos(0, 1.0) == pytest.approx(1.0) and cos(5, 1.0) == pytest.approx(0.55) and cos(20, 1.0) == pytest.approx(0.1)
    plateau = ReduceOnPlateau(factor=0.5, patience=1)
    lrs = [plateau(e, 1.0, m) for e, m in enumerate([1.0, 0.5, 0.5, 0.5, 0.5, 0.1])]
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]


def test_schedule_drives_the_learning_rate_in_fit():
    net = cr.mlp([1, 1], rng=0)
    X = np.linspace(-1, 1, 8).reshape(-1, 1)
    history = net.fit(X, 2 * X, loss="mse", optimizer=cr.optim.SGD(0.1, schedule=cr.optim.StepDecay(2, 0.1)),
                      epochs=5, verbose=0)
    np.testing.assert_allclose(history.lr, [0.1, 0.1, 0.01, 0.01, 0.001])


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0}, "lr must be > 0, got 0"),
    ({"lr": -0.1}, "lr must be > 0, got -0.1"),
    ({"lr": float("nan")}, "lr must be > 0"),
    ({"lr": "fast"}, "lr must be a number"),
    ({"lr": 0.1, "momentum": 1.5}, "momentum must be in \\[0, 1\\)"),
    ({"lr": 0.1, "clip_norm": 0}, "clip_norm must be > 0"),
    ({"lr": 0.1, "l2": -1}, "l2 must be >= 0"),
    ({"lr": 0.1, "nesterov": True}, "nesterov=True needs momentum"),
    ({"lr": 0.1, "schedule": "linear-warmup"}, "unknown learning-rate schedule"),
])
def test_impossible_hyperparameters(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        cr.optim.SGD(**kwargs)


def test_unknown_optimizer_name():
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'.*adam"):
        get_optimizer("adamm")


# -- against torch.optim ------------------------------------------------------------------------
TORCH_CASES = {
    "sgd": ({"lr": 0.1}, lambda t, ps: t.optim.SGD(ps, lr=0.1)),
    "momentum": ({"lr": 0.1, "momentum": 0.9}, lambda t, ps: t.optim.SGD(ps, lr=0.1, momentum=0.9)),
    "nesterov": ({"lr": 0.1, "momentum": 0.9, "nesterov": True},
                 lambda t, ps: t.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)),
    "rmsprop": ({"lr": 0.01, "rho": 0.9}, lambda t, ps: t.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-8)),
    "adam": ({"lr": 0.01}, lambda t, ps: t.optim.Adam(ps, lr=0.01)),
    "adamw": ({"lr": 0.01, "weight_decay": 0.1}, lambda t, ps: t.optim.AdamW(ps, lr=0.01, weight_decay=0.1)),
}


@pytest.mark.parametrize("case", list(TORCH_CASES))
def test_trajectory_matches_torch(case, rng):
    torch = pytest.importorskip("torch")
    kwargs, make_torch = TORCH_CASES[case]
    cls = {"sgd": cr.optim.SGD, "momentum": cr.optim.SGD, "nesterov": cr.optim.SGD,
           "rmsprop": cr.optim.RMSprop, "adam": cr.optim.Adam, "adamw": cr.optim.AdamW}[case]
    opt = cls(**kwargs)
    init = rng.normal(size=(3, 2))
    ours = param(init.copy(), np.zeros((3, 2)))
    theirs = torch.tensor(init.copy(), dtype=torch.float64, requires_grad=True)
    torch_opt = make_torch(torch, [theirs])
    for _ in range(25):
        grad = rng.normal(size=(3, 2))
        ours.grad = grad
        opt.step([ours])
        theirs.grad = torch.tensor(grad)
        torch_opt.step()
    np.testing.assert_allclose(ours.value, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_updates_large_parameters_in_blocks_exactly_as_one_expression(kwargs, dtype):
    # above optim.base.BLOCK elements the update runs block by block (small temporaries):
    # every element must be what the whole-array expression gives, bit for bit
    from chainrule.optim.base import BLOCK

    rng = np.random.default_rng(0)
    n = 3 * BLOCK + 17
    value = rng.standard_normal(n).astype(dtype)
    p = Parameter(value.copy(), "W")
    opt = cr.optim.SGD(0.05, **kwargs)
    want, velocity = value.copy(), np.zeros_like(value)
    for _ in range(3):
        grad = rng.standard_normal(n).astype(dtype)
        p.grad[...] = grad
        opt.step([p])
        if kwargs:
            velocity = velocity * dtype(0.9) + grad
            step = grad + dtype(0.9) * velocity if kwargs.get("nesterov") else velocity
        else:
            step = grad
        want = want - dtype(0.05) * step
    np.testing.assert_array_equal(p.value, want)


def test_blocks_are_views_and_leave_odd_arrays_whole():
    from chainrule.optim.base import BLOCK, blocks

    a, b = np.zeros(2 * BLOCK + 3), np.arange(2 * BLOCK + 3, dtype=float)
    parts = list(blocks(a, b))
    assert [x.size for x, _ in parts] == [BLOCK, BLOCK, 3]
    for x, y in parts:
        x += y  # writes through to a
    np.testing.assert_array_equal(a, b)
    strided = np.zeros((2 * BLOCK + 3) * 2)[::2]
    assert len(list(blocks(strided, b))) == 1  # a flat view would be a copy: one piece, the arrays
    small = np.zeros(5)
    assert list(blocks(small, small))[0][0] is small


# -- from an audit against PyTorch -------------------------------------------------------------------

def _plateau_rates(schedule, base, losses):
    return [schedule(epoch, base, monitor) for epoch, monitor in enumerate(losses)]


def test_plateau_never_raises_the_rate_and_skips_cuts_below_pytorchs_eps():
    from chainrule.optim.schedules import ReduceOnPlateau

    # min_lr above the base rate: PyTorch's ReduceLROnPlateau never raises a rate
    assert _plateau_rates(ReduceOnPlateau(min_lr=0.05, patience=0), 0.01, [1.0] * 5) == [0.01] * 5
    # a cut smaller than 1e-8 is skipped (PyTorch's eps): the rate stays at 1e-8
    assert _plateau_rates(ReduceOnPlateau(factor=0.5, patience=0), 1e-8, [1.0] * 5) == [1e-8] * 5
    # above eps the cuts happen as before, down to min_lr
    assert _plateau_rates(ReduceOnPlateau(factor=0.5, patience=0, min_lr=0.02), 0.1, [1.0] * 5) == \
        pytest.approx([0.1, 0.05, 0.025, 0.02, 0.02])


def test_plateau_matches_pytorch_over_a_long_run():
    torch = pytest.importorskip("torch")
    from chainrule.optim.schedules import ReduceOnPlateau

    losses = [1.0 / (1 + (epoch % 7)) for epoch in range(80)]
    ours = ReduceOnPlateau(factor=0.5, patience=1)
    rates = [ours(0, 1e-6, None)] + [ours(epoch + 1, 1e-6, loss) for epoch, loss in enumerate(losses)]
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-6)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    expected = [1e-6]
    for loss in losses:
        theirs.step(loss)
        expected.append(optimizer.param_groups[0]["lr"])
    assert rates == pytest.approx(expected, rel=1e-12)
    assert min(expected) < 2e-8  # the run reaches the rates where the eps rule matters


@pytest.mark.parametrize("build, error, message", [
    (lambda: cr.optim.SGD(0.1, momentum=0.9, nesterov="no"), TypeError, "nesterov must be True or False"),
    (lambda: cr.optim.StepDecay(gamma=1.5), ValueError, r"gamma must be in \(0, 1\]"),
    (lambda: cr.optim.ExponentialDecay(gamma=2.0), ValueError, r"gamma must be in \(0, 1\]"),
    (lambda: cr.optim.schedules.ReduceOnPlateau(factor=1), ValueError, r"factor must be in \(0, 1\)"),
    (lambda: cr.optim.schedules.ReduceOnPlateau(factor=0), ValueError, r"factor must be in \(0, 1\)"),
    (lambda: cr.optim.schedules.ReduceOnPlateau(threshold=1), ValueError, r"threshold must be in \[0, 1\)"),
    (lambda: cr.optim.AdamW(0.5, weight_decay=3), ValueError, "lr × weight_decay must be below 1"),
], ids=["nesterov_text", "step_gamma", "exp_gamma", "factor_1", "factor_0", "threshold_1", "adamw_shrink"])
def test_settings_that_make_no_sense_are_refused(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_the_gradient_norm_is_read_before_any_clipping_and_survives_overflow():
    p = Parameter(np.zeros(2), "W")
    p.grad[...] = [3.0, 4.0]
    sgd = cr.optim.SGD(1.0, clip_value=1.0, clip_norm=100.0)
    sgd.step([p])
    assert sgd.last_grad_norm == pytest.approx(5.0)  # not the value-clipped gradient's 1.414
    sgd.reset()
    assert sgd.last_grad_norm is None
    big = Parameter(np.zeros(3, dtype=np.float32), "W")
    big.grad[...] = [3e19, -3e19, 1.0]  # finite, but its squares overflow float32
    clipped = cr.optim.SGD(1.0, clip_norm=1.0)
    clipped.step([big])
    assert np.isfinite(clipped.last_grad_norm) and clipped.last_grad_norm == pytest.approx(3e19 * math.sqrt(2), rel=1e-5)
    np.testing.assert_allclose(big.value, [-math.sqrt(0.5), math.sqrt(0.5), 0.0], atol=1e-6)  # rescaled, not zeroed


def test_an_optimizers_repr_shows_what_it_was_built_with():
    assert repr(cr.optim.SGD(0.1, schedule="cosine")) == "SGD(lr=0.1, schedule=CosineDecay(period=None, min_lr=0.0))"
    momentum = cr.optim.Momentum(0.1, momentum=0.0)  # its default is 0.9: the repr must not drop the 0
    assert repr(momentum) == "Momentum(lr=0.1, momentum=0.0, nesterov=False)"
    assert eval(repr(momentum), {"Momentum": cr.optim.Momentum}).momentum == 0.0
    assert repr(cr.optim.SGD(0.1)) == "SGD(lr=0.1)"


@pytest.mark.parametrize("grads", [
    [np.array([3e19, -4e19], np.float32), np.array([1.0], np.float32)],  # squares overflow float32
    [np.array([3e38, 3e38], np.float32)],  # the norm itself is past float32's range
    [np.array([np.inf, 1.0], np.float32), np.array([2.0], np.float32)],
    [np.zeros(3, np.float32), np.zeros(0, np.float32)],
    [np.array([1e-30, 2e-30], np.float32)],  # squares underflow float32
    [np.array([0.3, -0.4], np.float32)],  # inside the clip norm: unchanged
], ids=["overflowing", "norm_past_float32", "infinite", "zero", "underflowing", "small"])
def test_device_clipping_agrees_with_the_cpu(grads):
    from chainrule.optim.base import _device_clip_factor

    with np.errstate(all="ignore"):  # a GPU does not warn; inf · 0 is NaN on both
        factor, _ = _device_clip_factor(np, grads, 1.0)  # the device code is NumPy-compatible: run it on NumPy
        on_device = [g * factor for g in grads]
        on_cpu = cr.optim.SGD(1.0, clip_norm=1.0)._clipped([g.astype(np.float64) for g in grads])
    for d, c in zip(on_device, on_cpu):
        assert d.dtype == np.float32
        np.testing.assert_allclose(d, c, rtol=1e-6, atol=1e-45)
