"""ising tc as the CLI audit found it: inputs checked only after the first size's Monte Carlo
run, and an error about an epoch count tc has no option for."""

import numpy as np
import pytest

from chainrule import ising_phases
from chainrule.datasets.ising import sample_ising
from conftest import one_line_error


@pytest.fixture
def no_monte_carlo(monkeypatch):
    """Fail the test if tc starts sampling."""
    import chainrule.datasets.ising

    def sample(*args, **kwargs):
        raise AssertionError("the Monte Carlo run started before the inputs were checked")

    monkeypatch.setattr(chainrule.datasets.ising, "sample_ising", sample)


def test_tc_checks_samples_before_any_monte_carlo(no_monte_carlo, capsys):
    err = one_line_error(["ising", "tc", "--L", "4,8", "--samples", "2"], capsys)
    assert "--samples 2: at least 4 configurations per temperature are needed" in err


def test_tc_checks_the_cpu_kernel_setting_before_any_monte_carlo(no_monte_carlo, monkeypatch, capsys):
    from chainrule import kernels_cpu

    monkeypatch.setenv("CHAINRULE_CPU_KERNELS", "fastest")
    monkeypatch.setattr(kernels_cpu, "_mode", None)  # read the variable again (a process reads it once)
    err = one_line_error(["ising", "tc", "--L", "4,8", "--samples", "8"], capsys)
    assert "CHAINRULE_CPU_KERNELS" in err


class _Undecided:
    """A network whose every output is ½: it never separates the phases."""

    def predict(self, X):
        return np.full((len(X), 2), 0.5)


def test_classify_without_epochs_does_not_speak_of_a_given_count(monkeypatch):
    monkeypatch.setattr(ising_phases, "train_phase_network", lambda *args, **kwargs: _Undecided())
    samples = sample_ising(4, np.linspace(1.0, 3.5, 6), 4, equilibration=5, sweeps_between=1, rng=0)
    with pytest.raises(ValueError) as default:
        ising_phases.classify(samples, networks=1)
    assert "given" not in str(default.value)
    assert "(each network trained" in str(default.value) and "the fewest that make 1500 Adam steps" in str(default.value)
    with pytest.raises(ValueError, match=r"not the 8 given"):
        ising_phases.classify(samples, epochs=8, networks=1)
