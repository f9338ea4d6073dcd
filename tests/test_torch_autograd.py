"""Random networks: chainrule's hand-written backprop against PyTorch autograd in float64."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

ACTS = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "identity": lambda z: z, "xtanh": lambda z: z * torch.tanh(z),
}


def torch_loss(name, out, y):
    F = torch.nn.functional
    if name == "mse":
        return F.mse_loss(out, y)
    if name == "sse":
        return 0.5 * ((out - y) ** 2).sum()
    if name == "bce":
        return F.binary_cross_entropy_with_logits(out, y)
    if name == "cross_entropy":
        return F.cross_entropy(out, y)
    if name == "hinge":
        return torch.clamp(1 - y * out, min=0).mean()
    if name == "huber":
        return F.huber_loss(out, y, delta=1.0)
    raise KeyError(name)


@pytest.mark.parametrize("seed", range(6))
def test_random_network_gradients_match_autograd(seed):
    rng = np.random.default_rng(seed)
    loss_name = ["mse", "sse", "bce", "cross_entropy", "hinge", "huber"][seed]
    sizes = [int(s) for s in rng.integers(2, 6, size=rng.integers(3, 5))]
    if loss_name == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    elif loss_name in ("bce", "hinge"):
        sizes[-1] = 1
    acts = [str(a) for a in rng.choice(list(ACTS), size=len(sizes) - 2)]
    net = cr.mlp(sizes, activation=acts, rng=seed)
    n = 9
    X = rng.normal(size=(n, sizes[0]))
    k = sizes[-1]
    if loss_name == "cross_entropy":
        y = rng.integers(0, k, size=n)
        y_t = torch.tensor(y)
    elif loss_name == "bce":
        y = rng.integers(0, 2, size=(n, 1)).astype(float)
        y_t = torch.tensor(y)
    elif loss_name == "hinge":
        y = rng.choice([-1.0, 1.0], size=(n, 1))
        y_t = torch.tensor(y)
    else:
        y = rng.normal(size=(n, k))
        y_t = torch.tensor(y)

    loss = cr.losses.get_loss(loss_name)
    value = loss.forward(net.forward(X), y)
    dX = net.backward(loss.backward())

    x_t = torch.tensor(X, requires_grad=True)
    params = [torch.tensor(p.value, requires_grad=True) for p in net.parameters()]
    h = x_t
    dense_i, act_i = 0, 0
    for layer in net.layers:
        if isinstance(layer, cr.Dense):
            h = h @ params[2 * dense_i].T + params[2 * dense_i + 1]
            dense_i += 1
        else:
            h = ACTS[acts[act_i]](h)
            act_i += 1
    t_value = torch_loss(loss_name, h, y_t)
    t_value.backward()
    assert value == pytest.approx(t_value.item(), rel=1e-12)
    np.testing.assert_allclose(dX, x_t.grad.numpy(), rtol=1e-10, atol=1e-13)
    for p, t in zip(net.parameters(), params):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_softmax_layer_matches_autograd():
    rng = np.random.default_rng(0)
    z, up = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    layer = cr.Softmax()
    layer.forward(z)
    ours = layer.backward(up)
    zt = torch.tensor(z, requires_grad=True)
    (torch.softmax(zt, dim=1) * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(ours, zt.grad.numpy(), rtol=1e-10, atol=1e-14)
