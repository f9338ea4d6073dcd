"""The physics audit of the Ising pipeline: each test fails on the code the audit found."""

import numpy as np
import pytest

from chainrule.datasets.ising import WolffSampler, sample_ising


# --- 6. a Wolff "sweep" is about a lattice of flips even with a short equilibration -------------

@pytest.mark.parametrize("n", [0, 1])
def test_wolff_sweep_is_a_lattice_of_flips_even_without_equilibration(n):
    # at T = 3 a 16×16 cluster holds ~12 spins: a sweep-equivalent is ~20 clusters; the audited
    # code kept it at 1 cluster when equilibrate() was given fewer than 2 sweeps
    sampler = WolffSampler(np.ones((8, 16, 16), np.int8), [3.0] * 8, rng=0)
    sampler.equilibrate(n)
    assert sampler.clusters_per_sweep.min() >= 10
    flipped = sampler.flipped.copy()
    sampler.sweep(1)
    assert (sampler.flipped - flipped).mean() > 0.5 * 16 * 16


# --- 4. absurd sweep counts are refused before any work ---------------------------------------

@pytest.mark.parametrize("kwargs", [{"equilibration": 10**15}, {"equilibration": 10**30},
                                    {"sweeps_between": 10**11}, {"equilibration": {"wolff": 10**11}}])
def test_sample_ising_refuses_runs_past_the_work_bound(kwargs):
    # the audited code ran these (the first for days, the second overflowed int64)
    with pytest.raises(ValueError, match=r"spin updates.*more than the 1e\+12 allowed"):
        sample_ising(4, [1.0, 2.3], 4, **kwargs)


def test_work_bound_counts_every_chain_and_sweep():
    from chainrule.datasets.ising_sampler import spin_updates

    # 2 temperatures × 4 chains × 16 spins × (10 + 3 rounds × 2 sweeps), Wolff weighted 70×
    assert spin_updates(4, 12, 4, ["metropolis", "wolff"], [10, 10], [2, 2]) == 4 * 16 * 16 * (1 + 70)
    with pytest.raises(ValueError, match=r"about 6.4e\+07 spin updates \(1 temperature × 4 chains"):
        sample_ising(4, [1.0], 4, equilibration=10**6, max_spin_updates=1e7)


@pytest.mark.parametrize("flag", ["--equilibration", "--sweeps-between"])
def test_generate_refuses_absurd_sweeps_with_one_line(flag, tmp_path, capsys):
    from conftest import one_line_error

    out = tmp_path / "x.npz"
    err = one_line_error(["ising", "generate", "--L", "4", "--steps", "2", "--samples", "4", flag,
                          "1000000000000000", "--out", str(out)], capsys)
    assert f"{flag} 1000000000000000: about 1.3e+17 spin updates" in err and "1e+12" in err
    assert not out.exists()


# --- 7. temperatures out of order are refused where they enter, naming the real problem -------

def test_unsorted_or_repeated_temperatures_are_refused_everywhere(tmp_path):
    from chainrule.datasets.ising_io import save_ising_npz
    from chainrule.ising_confusion import confusion
    from chainrule.ising_phases import classify

    with pytest.raises(ValueError, match=r"temperatures must be strictly increasing, but T\[0\] = 3 is followed by "
                                         r"T\[1\] = 1.5"):
        sample_ising(4, [3.0, 1.5], 4, equilibration=5, sweeps_between=1, rng=0)
    with pytest.raises(ValueError, match=r"T\[1\] = T\[2\] = 2 repeats"):
        sample_ising(4, [1.5, 2.0, 2.0], 4, equilibration=5, sweeps_between=1, rng=0)
    good = sample_ising(4, list(np.linspace(1.0, 3.5, 8)), 4, equilibration=5, sweeps_between=1, rng=0)
    good.temperatures = good.temperatures[::-1].copy()  # a hand-edited dataset
    with pytest.raises(ValueError, match="temperatures must be strictly increasing"):
        save_ising_npz(tmp_path / "u.npz", good)
    assert not (tmp_path / "u.npz").exists()
    # the audited classify blamed the network: "outputs never cross: it did not learn"
    with pytest.raises(ValueError, match="the dataset's temperatures must be strictly increasing"):
        classify(good, networks=1)
    with pytest.raises(ValueError, match="the dataset's temperatures must be strictly increasing"):
        confusion(good, networks=1)


# --- 8. generate refuses what the next step refuses, and warns about the rest -----------------

@pytest.mark.parametrize("argv, message", [
    (["--steps", "1"], "--steps 1 samples --tmin = 1 only and would ignore --tmax = 3.5"),
    (["--samples", "3"], "--samples 3: classify and confusion need at least 4 configurations"),
])
def test_generate_refuses_settings_classify_would_refuse(argv, message, tmp_path, capsys):
    from conftest import one_line_error

    out = tmp_path / "x.npz"
    err = one_line_error(["ising", "generate", "--L", "4", *argv, "--out", str(out)], capsys)
    assert message in err and not out.exists()


def test_generate_warns_when_the_temperatures_miss_the_transition(tmp_path, capsys):
    from chainrule.cli import main

    out = tmp_path / "x.npz"
    assert main(["ising", "generate", "--L", "4", "--tmin", "2.5", "--steps", "8", "--samples", "4",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: the temperatures 2.5..3.5 do not straddle T_c = 2.2692" in err and err.count("\n") == 1
    assert out.exists()


# --- 5. default spacings are at least twice the largest autocorrelation time measured ---------

def test_default_spacing_covers_the_measured_autocorrelation_times():
    from chainrule.datasets.ising import default_schedule

    # Metropolis τ_|m| at T = 2.05, L = 32 reached 17.8 (rare reversals of m); τ_e at T = 100 is 5.9
    _, between = default_schedule(32, [2.05, 100.0], "metropolis")
    assert between[0] >= 2 * 17.8 and between[1] >= 2 * 5.9
    # Wolff τ_e at T_c reached ≈ 3 sweep-equivalents at L = 64, under 2 at L <= 32
    assert default_schedule(64, [2.27], "wolff")[1][0] >= 6
    assert default_schedule(32, [2.27], "wolff")[1][0] == 4
