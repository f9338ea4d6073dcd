"""scikit-learn estimators around the engine: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

They follow scikit-learn's estimator API (``get_params``/``set_params``, ``fit``,
``partial_fit``, ``predict``, ``predict_proba``, ``score``), so they work in ``Pipeline``,
``GridSearchCV`` and ``cross_val_score``. The classifier uses one sigmoid output with binary
cross-entropy for two classes and a softmax output with cross-entropy for more, and one
sigmoid output per label for a multilabel 0/1 ``y`` of shape (n, k); labels may be numbers,
booleans or strings (as in scikit-learn, bytes and mixed types are refused). The regressor
handles one or several outputs. Sparse ``X`` is accepted and made dense. A fitted
estimator saves with ``est.save(path)``; ``chainrule.load(path)`` gives it back (without
optimizer state or random generator: continued training starts those afresh).
"""

from .base import NeuralNetBase
from .classifier import NeuralNetClassifier
from .regressor import NeuralNetRegressor

__all__ = ["NeuralNetBase", "NeuralNetClassifier", "NeuralNetRegressor"]
