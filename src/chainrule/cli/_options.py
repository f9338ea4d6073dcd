"""Options shared by the subcommands that build and train networks."""

from __future__ import annotations

import argparse

from ..layers import ACTIVATIONS
from ..losses import LOSSES
from ..optim import OPTIMIZERS, SCHEDULES


def int_list(text: str) -> list[int]:
    """Parse "8,8" into [8, 8]; "" or "none" means no hidden layer (a width of 0 is refused)."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 8,8, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
    return sizes


def hidden_layers(text: str) -> list[int]:
    """--hidden: "8,8" is [8, 8]; "none" is no hidden layer (0 is not a width)."""
    try:
        return int_list(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; 'none' means no hidden layer") from None


def _finite_number(text: str, *, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    ok = value >= 0 if allow_zero else value > 0
    if not ok or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number {'>=' if allow_zero else '>'} 0, got {text}")
    return value


def positive_float(text: str) -> float:
    return _finite_number(text, allow_zero=False)


def non_negative_float(text: str) -> float:
    return _finite_number(text, allow_zero=True)


def fraction(text: str) -> float:
    value = non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _integer(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _integer(text, 1)


def non_negative_int(text: str) -> int:
    return _integer(text, 0)


#: The largest seed: scikit-learn's ``random_state`` (a NumPy ``RandomState``) takes 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1


def random_seed(text: str) -> int:
    """--seed: an integer from 0 to ``MAX_SEED``."""
    value = _integer(text, 0)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be at most 2**32 - 1 = {MAX_SEED}, got {value}")
    return value


def batch_size(text: str):
    if text.lower() in ("full", "none", "all"):
        return None
    return positive_int(text)


def add_network_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("network")
    group.add_argument("--hidden", type=hidden_layers, default=[8, 8], metavar="SIZES",
                       help="hidden layer widths, comma-separated (default: 8,8; 'none' for no hidden layer)")
    group.add_argument("--activation", choices=ACTIVATIONS.names(), default="tanh", metavar="NAME",
                       help=f"hidden activation: {', '.join(ACTIVATIONS.names())} (default: tanh)")
    group.add_argument("--init", default=None, metavar="NAME",
                       help="weight initialiser (default: He for ReLU, Glorot otherwise)")
    group.add_argument("--batch-norm", action="store_true",
                       help="batch normalisation between each hidden layer and its activation")
    group.add_argument("--dropout", type=fraction, default=0.0, metavar="P",
                       help="dropout probability after each hidden activation, in [0, 1) (default: 0)")
    group.add_argument("--residual", action="store_true",
                       help="skip connections around every hidden layer after the first")
    group.add_argument("--dtype", choices=["float64", "float32"], default=None,
                       help="array dtype (default: float64 on CPU, float32 on GPU)")
    group.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to train (default: cpu)")


def add_training_options(parser: argparse.ArgumentParser, default_epochs: int = 500) -> None:
    group = parser.add_argument_group("training")
    group.add_argument("--loss", choices=LOSSES.names(), default=None, metavar="NAME",
                       help=f"loss: {', '.join(LOSSES.names())} (default: bce for two classes, "
                       "cross_entropy for more, mse for regression)")
    group.add_argument("--optimizer", choices=OPTIMIZERS.names(), default="adam", metavar="NAME",
                       help=f"optimizer: {', '.join(OPTIMIZERS.names())} (default: adam)")
    group.add_argument("--lr", type=positive_float, default=0.01, help="learning rate (default: 0.01)")
    group.add_argument("--epochs", type=positive_int, default=default_epochs,
                       help=f"passes over the training data (default: {default_epochs})")
    group.add_argument("--batch-size", type=batch_size, default=None, metavar="N",
                       help="mini-batch size; 'full' for full-batch gradient descent (default), 1 for SGD")
    group.add_argument("--l2", type=non_negative_float, default=0.0, help="L2 penalty on weights (default: 0)")
    group.add_argument("--l1", type=non_negative_float, default=0.0, help="L1 penalty on weights (default: 0)")
    group.add_argument("--clip-norm", type=positive_float, default=None, metavar="X",
                       help="clip gradients to this global norm")
    group.add_argument("--schedule", choices=SCHEDULES.names(), default=None,
                       help="learning-rate schedule (default: constant)")
    group.add_argument("--early-stopping", type=positive_int, default=None, metavar="PATIENCE",
                       help="hold out a validation part and stop at the (PATIENCE + 1)-th epoch in a row without a "
                       "better validation loss, keeping the best epoch's weights")
    group.add_argument("--seed", type=random_seed, default=0,
                       help="random seed (0 to 2**32 - 1) for the circles and xor data, weights, splits and shuffling "
                       "(default: 0)")
    group.add_argument("--quiet", action="store_true", help="no progress output")


def make_optimizer(args):
    """The optimizer named on the command line, with rate, penalties and clipping."""
    from ..optim import get_optimizer

    return get_optimizer(args.optimizer, lr=args.lr, l2=args.l2, l1=args.l1,
                         clip_norm=args.clip_norm, schedule=args.schedule)
