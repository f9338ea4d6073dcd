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


# --- 1-3. the supervised crossing: its label threshold, its errors, the weighted extrapolation --

class _MagnetisationNet:
    """A stand-in for a trained network: 'ordered' where |m| is large (fast, and it separates
    the phases as a real one does), with its own small offset so that networks differ."""

    def __init__(self, offset):
        self.offset = offset

    def predict(self, X):
        m = np.abs(np.asarray(X, dtype=float).mean(axis=1))
        p = 1 / (1 + np.exp(-30 * (m - 0.65 - self.offset)))
        return np.column_stack([p, 1 - p])


@pytest.fixture
def magnetisation_nets(monkeypatch):
    from chainrule import ising_confusion, ising_phases

    offsets = iter(np.random.default_rng(0).normal(0, 0.02, 10_000))
    fake = lambda *args, **kwargs: _MagnetisationNet(next(offsets))  # noqa: E731
    monkeypatch.setattr(ising_phases, "train_phase_network", fake)
    monkeypatch.setattr(ising_confusion, "train_phase_network", fake)


@pytest.fixture(scope="module")
def data8():
    return sample_ising(8, np.linspace(1.0, 3.5, 26), 40, rng=0)


def test_classify_reports_its_errors_and_label(magnetisation_nets, data8):
    from chainrule.ising_phases import classify

    result = classify(data8, networks=3)
    assert result["tc_label"] == pytest.approx(2.269185, abs=1e-6)
    assert 0 < result["tc_bootstrap_err"] < 0.2 and 0 < result["tc_network_err"] < 0.2
    assert result["tc_err"] == pytest.approx(np.hypot(result["tc_bootstrap_err"], result["tc_network_err"]))
    members = np.array(result["tc_members"])
    assert result["tc_network_err"] == pytest.approx(members.std(ddof=1) / np.sqrt(3))
    assert np.isnan(classify(data8, networks=1)["tc_network_err"])  # one network: no spread to show


def test_crossing_bootstrap_matches_the_scatter_of_fresh_test_sets():
    from chainrule.ising_phases import crossing_errors

    # held-out outputs: 0/1 draws with P(ordered) a logistic in T; fresh draws give the true scatter
    rng = np.random.default_rng(1)
    T = np.linspace(1.5, 3.0, 16)
    n = 60
    temps = np.repeat(T, n)
    prob = 1 / (1 + np.exp((temps - 2.3) / 0.08))
    truth = []
    for _ in range(300):
        from chainrule.ising_phases import crossing

        draw = (rng.random(temps.size) < prob).astype(float)
        truth.append(crossing(T, draw.reshape(16, n).mean(axis=1)))
    draw = (rng.random(temps.size) < prob).astype(float)
    boot = crossing_errors(T, temps, draw, [2.3, 2.31], 300, rng)["tc_bootstrap_err"]
    assert 0.6 < boot / np.std(truth) < 1.6


def test_weighted_extrapolation_propagates_the_errors():
    from chainrule.ising_phases import extrapolate_weighted

    sizes = np.array([8, 16, 24, 32])
    exact = 2.27 + 0.4 / sizes
    errors = np.array([0.01, 0.004, 0.004, 0.002])
    fit = extrapolate_weighted(sizes, exact, errors)
    assert fit["tc"] == pytest.approx(2.27) and fit["a"] == pytest.approx(0.4) and fit["chi2"] == pytest.approx(0)
    X = np.column_stack([np.ones(4), 1 / sizes])
    assert fit["tc_err"] == pytest.approx(np.sqrt(np.linalg.inv(X.T @ (X / errors[:, None] ** 2))[0, 0]))
    # the intervals cover the truth about 68% of the time when the errors are right
    rng = np.random.default_rng(2)
    fits = [extrapolate_weighted(sizes, exact + rng.normal(0, errors), errors) for _ in range(2000)]
    plain = np.mean([abs(f["tc"] - 2.27) < np.sqrt(np.linalg.inv(X.T @ (X / errors[:, None] ** 2))[0, 0])
                     for f in fits])
    assert 0.64 < plain < 0.72
    # a point far off its error inflates the intercept's error by sqrt(chi2/dof)
    bad = extrapolate_weighted(sizes, exact + np.array([0, 0.05, 0, 0]), errors)
    assert bad["scaled"] and bad["tc_err"] > 3 * fit["tc_err"]
    with pytest.raises(ValueError, match="one finite error > 0 per size"):
        extrapolate_weighted(sizes, exact, [0.01, 0.0, 0.01, 0.01])


def test_classify_output_names_the_threshold_and_the_uncertainty(magnetisation_nets, data8, tmp_path, capsys):
    from chainrule.cli import main
    from chainrule.datasets.ising_io import save_ising_npz

    path = save_ising_npz(tmp_path / "d.npz", data8)
    assert main(["ising", "classify", str(path), "--plot", "none"]) == 0
    out = capsys.readouterr().out
    assert "outputs cross at T = " in out and " ± " in out and "bootstrap over the held-out configurations" in out
    assert "taught labels T >= 2.269185" in out and "not a measurement of T_c" in out
    assert "leaves out the Monte Carlo noise of the training data" in out and "**" not in out
    assert main(["ising", "classify", str(path), "--plot", "none", "--json"]) == 0
    result = __import__("json").loads(capsys.readouterr().out)
    assert {"tc", "tc_err", "tc_bootstrap_err", "tc_network_err", "tc_label"} <= set(result)
    assert main(["ising", "confusion", str(path), "--plot", "none"]) == 0
    out = capsys.readouterr().out
    assert "confusion estimate T_c = " in out and " ± " in out and "was not used" in out


def test_tc_fits_with_errors_and_says_what_it_is(magnetisation_nets, capsys):
    from chainrule.cli import main

    assert main(["ising", "tc", "--L", "8,12,16", "--samples", "40", "--steps", "12"]) == 0
    out = capsys.readouterr().out
    assert "labels T >= 2.269185 (the exact T_c, taught to the networks)" in out
    assert "weighted fit T(L) = T_∞ + a/L: T_∞ = " in out and "χ²/dof" in out
    assert "not a measurement of T_c" in out and "number of samples and epochs" in out and "**" not in out
    assert main(["ising", "tc", "--L", "8,16", "--samples", "40", "--steps", "12", "--json"]) == 0
    result = __import__("json").loads(capsys.readouterr().out)
    assert len(result["tc_L_err"]) == 2 and result["tc_extrapolated_err"] > 0 and result["dof"] == 0


@pytest.mark.slow
def test_supervised_crossing_follows_the_label_threshold():
    # the audit: labels at 2.45 moved the crossing to 2.46 at L = 8 (exact T_c 2.269)
    from chainrule.ising_phases import classify

    samples = sample_ising(8, np.linspace(1.0, 3.5, 26), 400, rng=0)
    assert classify(samples, tc_label=2.45)["tc"] > 2.38
