"""``chainrule ising classify`` options: the epochs actually trained are reported.

On a small data set ``--epochs`` is raised to the fewest epochs that make 1500 Adam steps per
network, so ``--epochs 5`` and ``--epochs 40`` train identically. The audit's L = 8 file (11
temperatures × 40 configurations: 330 training configurations, ×4 with symmetry copies = 21
mini-batches of 64 per epoch, so at least ceil(1500 / 21) = 72 epochs) failed with the same
message and numbers at both, a message that advised "more epochs" without saying how many had
been trained. Synthetic configurations keep these tests independent of the sampler and of how
well a network happens to train.
"""

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.datasets.ising_io import load_ising_npz
from chainrule.ising_phases import classify

FLOOR = 72  # epochs for 11 × 30 training configurations of 8×8 (see the module docstring)


def _dataset(tmp_path, *, separable: bool):
    """The audit's shape (L = 8, 11 temperatures from 1.0 to 3.5, 40 per temperature), with
    configurations that are either clearly the two phases or pure noise at every temperature."""
    path = tmp_path / "ising8.npz"
    assert main(["ising", "generate", "--L", "8", "--steps", "11", "--samples", "40", "--equilibration", "2",
                 "--sweeps-between", "1", "--out", str(path)]) == 0
    rng = np.random.default_rng(0)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    configs = rng.choice(np.array([-1, 1], dtype=np.int8), size=arrays["configs"].shape)
    if separable:
        cold = arrays["temperatures"] < 2.269
        signs = rng.choice(np.array([-1, 1], dtype=np.int8), size=(cold.sum(), configs.shape[1], 1, 1))
        flips = np.where(rng.random(configs[cold].shape) < 0.05, -1, 1).astype(np.int8)
        configs[cold] = signs * flips
    arrays["configs"] = configs
    np.savez(path, **arrays)
    return path


def test_refusal_says_how_many_epochs_were_trained(tmp_path, capsys):
    data = _dataset(tmp_path, separable=False)
    capsys.readouterr()
    errors = {}
    for epochs in (5, 40):
        assert main(["ising", "classify", str(data), "--epochs", str(epochs), "--networks", "1",
                     "--plot", "none"]) == 2
        errors[epochs] = capsys.readouterr().err
        assert errors[epochs].count("\n") == 1, errors[epochs]
        assert "did not separate the phases" in errors[epochs] or "never cross" in errors[epochs]
        # "more epochs help" alone sent the audit from 5 to 40, which changed nothing
        assert f"each network trained {FLOOR} epochs, not the {epochs} given" in errors[epochs], errors[epochs]
        assert f"only more than {FLOOR} epochs train longer" in errors[epochs]
    # the same training both times: only the number quoted back differs
    assert errors[5].split(" (each network")[0] == errors[40].split(" (each network")[0]
    assert main(["ising", "classify", str(data), "--epochs", str(FLOOR + 3), "--networks", "1",
                 "--plot", "none"]) == 2
    assert f"(each network trained {FLOOR + 3} epochs)" in capsys.readouterr().err


def test_classify_result_and_output_give_the_epochs_trained(tmp_path, capsys):
    data = _dataset(tmp_path, separable=True)
    samples = load_ising_npz(data)
    low, asked = (classify(samples, epochs=e, networks=1) for e in (5, 40))
    assert low["epochs"] == asked["epochs"] == FLOOR
    np.testing.assert_array_equal(low["p_ordered"], asked["p_ordered"])  # raised to the same training
    above = classify(samples, epochs=FLOOR + 8, networks=1)
    assert above["epochs"] == FLOOR + 8
    assert not np.array_equal(above["p_ordered"], low["p_ordered"])  # above the floor --epochs takes effect
    capsys.readouterr()
    assert main(["ising", "classify", str(data), "--epochs", "5", "--networks", "1", "--plot", "none"]) == 0
    out = capsys.readouterr().out
    assert f"; {FLOOR} epochs per network (--epochs 5 raised to make 1500 Adam steps)" in out, out
    assert main(["ising", "classify", str(data), "--epochs", str(FLOOR + 8), "--networks", "1",
                 "--plot", "none"]) == 0
    out = capsys.readouterr().out
    assert f"; {FLOOR + 8} epochs per network\n" in out and "raised" not in out, out


@pytest.mark.parametrize("command", ["classify", "confusion"])
def test_epochs_help_says_small_values_are_raised(command, capsys):
    with pytest.raises(SystemExit):
        main(["ising", command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "is raised to the fewest that make 1500" in help_text, help_text


def test_confusion_refusal_and_output_give_the_epochs_trained(tmp_path, capsys):
    noise = _dataset(tmp_path, separable=False)
    code = main(["ising", "confusion", str(noise), "--epochs", "5", "--networks", "1", "--plot", "none"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    import re

    trained = re.search(r"\(each network trained (\d+) epochs, not the 5 given", err)
    assert trained and int(trained.group(1)) > 40  # --epochs 40 would have trained as long: said so
