"""Seed 002, Mini-Exercise 1: the ReLU derivative and the hidden-layer gradient.

g(z) = max(0, z) has g'(z) = 1 for z > 0 and 0 for z < 0 (undefined at 0; chainrule, like most
libraries, uses 0 there). The hidden-layer gradient ``dZ[1] = (dZ[2] W[2]) * g'(Z[1])`` becomes a
mask: the error signal passes through the active units unchanged and stops at the inactive ones —
no multiplication by a derivative value (σ' is at most 1/4), no exponential to evaluate.

The script shows it on one example of seed 002's moons with ``chainrule.inspect.explain`` on a
2-4-1 ReLU network (BCE, as in the notebook) and checks the gradients with ``gradcheck``.

Run: ``python examples/mini_exercise_1_relu_derivative.py [OUT_DIR]`` (writes no files).
"""

from __future__ import annotations

import sys

import numpy as np

import chainrule as cr
from chainrule.datasets import moons
from chainrule.inspect import explain, gradcheck
from chainrule.inspect.explain_render import matrix_text


def main(out_dir="."):
    X_train, _, y_train, _ = moons()
    net = cr.mlp([2, 4, 1], activation="relu", rng=0)
    trace = explain(net, X_train[0], y_train[:1], loss="bce", lr=0.1)
    hidden = trace.layer(1)
    mask = (hidden.Z > 0).astype(float)
    print("g(z) = max(0, z),  g'(z) = 1 if z > 0 else 0")
    print(f"dZ[1] = (dZ[2] W[2]) * g'(Z[1]) = dA[1] * 1[Z[1] > 0] on the moons example x = {matrix_text(X_train[0])}:")
    for label, value in (("Z[1]", hidden.Z), ("g'(Z[1])", hidden.g_prime), ("dA[1] = dZ[2] W[2]", hidden.dA),
                         ("dZ[1]", hidden.dZ), ("dW[1] = dZ[1]ᵀ x", hidden.dW)):
        print(f"   {label:<20} {matrix_text(value).replace(chr(10), chr(10) + ' ' * 24)}")
    passes = np.array_equal(hidden.dZ, hidden.dA * mask)
    print(f"dZ[1] equals dA[1] where Z[1] > 0 and 0 elsewhere: {passes}. Rows of dW[1] of inactive units are 0:"
          f" {np.all(hidden.dW[mask[0] == 0] == 0)}.")
    report = gradcheck(net, X_train[:8], y_train[:8], "bce")
    print(report.summary())
    print("Simplification: no derivative to evaluate, only a comparison; active units pass the gradient on at")
    print("full strength (factor 1 instead of σ' ≤ 1/4), so with He initialisation deep ReLU networks do not shrink")
    print("it layer by layer (with Glorot's smaller weights they still do, less than sigmoid: Exercise 2 measures it) —")
    print("but a unit whose Z is negative for every example gets no gradient at all (a 'dead' ReLU).")
    return {"mask_rule_holds": bool(passes), "g_prime": hidden.g_prime, "gradcheck_passed": report.passed,
            "active_units": int(mask.sum())}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
