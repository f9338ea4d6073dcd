"""An estimator's training curves in its model file: float64 tensors beside the weights.

``loss_curve_`` and ``validation_scores_`` hold one float per epoch, and every
``partial_fit`` call is an epoch, so a streaming fit can leave millions of them: as JSON in
the header (estimator record version 1) they would pass the header's 16 MiB cap. Since
record version 2 they are tensors, ``estimator.loss_curve_`` and
``estimator.validation_scores_``: one-dimensional float64 whatever the network's dtype
(exact, NaN included), named outside ``layers.`` so that no weight can take their names,
and covered by the file's checksum like the weights.
"""

from __future__ import annotations

import numpy as np

#: Estimator attribute -> the tensor that holds it.
CURVE_TENSORS = {"loss_curve_": "estimator.loss_curve_", "validation_scores_": "estimator.validation_scores_"}
CURVE_NAMES = frozenset(CURVE_TENSORS.values())


def curve_tensors(estimator) -> dict[str, np.ndarray]:
    """The curves of a fitted estimator as the tensors its file holds.

    Raises
    ------
    ValueError
        The curves disagree with each other or with ``n_iter_`` (a file that could not be
        loaded: see ``check_curves_agree``), or are not lists of numbers.
    """
    where = f"cannot save {type(estimator).__name__}"
    arrays = {}
    for key, name in CURVE_TENSORS.items():
        try:  # float() of each entry, as the JSON record took them: None or a list is refused, not NaN
            arrays[name] = np.fromiter(map(float, getattr(estimator, key)), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {key} must be a list of numbers ({exc})") from None
    check_curves_agree(estimator.n_iter_, *arrays.values(), where, in_file=False)
    return arrays


def check_curves_agree(n_iter, losses, scores, where: str, in_file: bool = True) -> None:
    """The curves as a fit leaves them: one loss per epoch run (``n_iter_``), and validation
    scores either none or one per epoch (NaN where an epoch had none); ``_append_curves``
    relies on it to keep them aligned when training continues.

    Parameters
    ----------
    in_file : bool
        Name the curves by their tensors (loading) instead of their attributes (saving).

    Raises
    ------
    ValueError
        Naming the curve whose length is wrong.
    """
    loss, score = ((CURVE_TENSORS[key] if in_file else key) for key in CURVE_TENSORS)
    if len(losses) != n_iter:
        raise ValueError(f"{where}: {loss} holds {len(losses)} epochs, n_iter_ is {n_iter} (one loss per epoch)")
    if len(scores) not in (0, len(losses)):
        raise ValueError(f"{where}: {score} holds {len(scores)} epochs, {loss} {len(losses)} "
                         "(none or one validation score per epoch)")


def split_curves(tensors: dict) -> tuple[dict, dict]:
    """A file's tensors as (the network's, the curves')."""
    network = {name: array for name, array in tensors.items() if name not in CURVE_NAMES}
    return network, {name: tensors[name] for name in CURVE_NAMES if name in tensors}


def curves_from_tensors(state: dict, curves: dict, where: str) -> tuple[list, list]:
    """``loss_curve_`` and ``validation_scores_`` of a version-2 record, from the file's
    tensors (as lists of floats, as a fit leaves them).

    Raises
    ------
    ValueError
        A curve also in the record, or a tensor missing. (Their dtype and shape were checked
        with the file's header, before anything was read: ``io_format.check_tensor_table``.)
    """
    out = []
    for key, name in CURVE_TENSORS.items():
        if key in state:
            raise ValueError(f"{where}: {key} is kept in tensor {name}, not in a version 2 record")
        array = curves.get(name)
        if array is None:
            raise ValueError(f"{where}: the file has no tensor {name} (the estimator's {key})")
        out.append(array.tolist())
    return out[0], out[1]
