"""Shared by ``predict`` and ``evaluate``: a model file and a table, made to fit each other."""

from __future__ import annotations

import numpy as np


def load_model_and_table(model_path, data_path, need_target: bool):
    """Load the model, read the table with the model's feature columns, and scale it.

    Returns
    -------
    net : Sequential
    meta : dict
        The model's metadata (features, target, task, classes, scaler).
    table : Table
    X : ndarray, shape (n, d)
        Scaled features, ready for the network.
    """
    from .. import load
    from ..datasets import load_table

    net = load(model_path)
    meta = net.metadata or {}
    features = meta.get("features")
    target = meta.get("target") if need_target else None
    if need_target and not target:
        raise ValueError(f"{model_path} does not record its target column, so it cannot be evaluated on a table")
    task = meta.get("task")
    table = load_table(data_path, target, task="regression" if task == "regression" else "classification",
                       features=features, classes=meta.get("classes"))
    if net.n_inputs is not None and table.X.shape[1] != net.n_inputs:
        raise ValueError(f"{data_path} has {table.X.shape[1]} feature columns but the model takes {net.n_inputs}")
    mean = np.asarray(meta.get("scaler_mean", np.zeros(table.X.shape[1])), dtype=float)
    std = np.asarray(meta.get("scaler_std", np.ones(table.X.shape[1])), dtype=float)
    return net, meta, table, (table.X - mean) / std
