"""The 2-D Ising Monte Carlo samplers against exact results: Onsager's energy and Yang's
magnetisation on a 32×32 lattice, exact enumeration of all 2^(L²) states of 2×2 and 4×4
lattices (Metropolis and Wolff separately), the one-byte acceptance rule against its
probabilities; plus the error analysis, the npz files and bad input."""

import math
import os
import zipfile

import numpy as np
import pytest

from chainrule.datasets.ising import (
    T_C,
    WOLFF_WINDOW,
    CheckerboardMetropolis,
    IsingSamples,
    WolffSampler,
    blocking_error,
    default_schedule,
    energy_per_spin,
    exact_enumeration,
    integrated_autocorrelation_time,
    load_ising_npz,
    magnetisation_per_spin,
    measure_autocorrelation,
    onsager_energy_per_spin,
    sample_ising,
    save_ising_npz,
    toy_ising_configurations,
    wolff_cluster,
    yang_magnetisation,
)
from chainrule.datasets.ising_lattice import pack, packed_neighbour_sum, unpack
from chainrule.datasets.ising_metropolis import _thresholds, metropolis_acceptance

pytest.importorskip("scipy")


# --- exact results ---------------------------------------------------------------------------

def onsager_energy_from_free_energy(T, h=1e-4, n=512):
    """u = d(βf)/dβ by central differences of Onsager's double integral (midpoint rule,
    spectrally accurate for this periodic integrand away from T_c): independent of ellipk."""
    theta = (np.arange(n) + 0.5) * 2 * np.pi / n
    c = np.cos(theta)[:, None] + np.cos(theta)[None, :]

    def beta_f(beta):
        return -(math.log(2) + 0.5 * np.log(np.cosh(2 * beta) ** 2 - np.sinh(2 * beta) * c).mean())

    beta = 1 / T
    return (beta_f(beta + h) - beta_f(beta - h)) / (2 * h)


def test_exact_formulas():
    assert T_C == pytest.approx(2.269185314213022, abs=1e-12)
    # the ellipk convention (parameter m = k², not modulus k) against the free energy
    for T in (1.5, 2.0, 3.0, 5.0):
        assert onsager_energy_per_spin(T)[0] == pytest.approx(onsager_energy_from_free_energy(T), abs=1e-6)
    assert onsager_energy_per_spin(T_C)[0] == pytest.approx(-math.sqrt(2), abs=1e-12)
    assert onsager_energy_per_spin(0.2)[0] == pytest.approx(-2.0, abs=1e-9)
    assert onsager_energy_per_spin(1e4)[0] == pytest.approx(-2e-4, rel=1e-3)  # high T: u ≈ -2 tanh β
    assert yang_magnetisation([0.5, 1.5, 2.0, T_C, 2.5]) == pytest.approx([1.0, 0.986500, 0.911319, 0.0, 0.0],
                                                                          abs=1e-6)
    # no overflow at extreme temperatures (RuntimeWarnings are errors in this suite)
    assert onsager_energy_per_spin([1e-3, 1e6]) == pytest.approx([-2.0, -2e-6], rel=1e-5)
    assert yang_magnetisation(1e-3)[0] == 1.0


def test_exact_enumeration_of_the_2x2_lattice_by_hand():
    # 2×2 periodic: each bond counts twice; levels -2, 0, +2 per spin with 2, 12, 2 states
    T = 2.5
    weights = np.array([2 * math.exp(8 / T), 12, 2 * math.exp(-8 / T)])
    exact = exact_enumeration(2, T)
    assert exact["levels"] == pytest.approx([-2, 0, 2])
    assert exact["probabilities"][0] == pytest.approx(weights / weights.sum())


# --- lattice plumbing ---------------------------------------------------------------------------

@pytest.mark.parametrize("L", [2, 4, 6, 8])
def test_packed_neighbour_sums_match_np_roll(L):
    spins = np.where(np.random.default_rng(L).random((5, L, L)) < 0.5, 1, -1).astype(np.int8)
    packed = pack(spins)
    assert np.array_equal(unpack(packed), spins)
    full = sum(np.roll(spins, shift, axis) for shift in (1, -1) for axis in (1, 2)).astype(np.int8)
    for colour in (0, 1):
        out = np.empty_like(packed[:, 0])
        packed_neighbour_sum(packed[:, 1 - colour], out, colour)
        assert np.array_equal(out, pack(full)[:, colour])


def test_acceptance_from_one_byte_is_exact():
    """Acceptance frequencies equal min(1, e^{-ΔE/T}) (3/4 for ΔE = 0), including p below
    1/256 (decided by ties alone) and p above 3/4."""
    rng = np.random.default_rng(0)
    T = np.array([1.0, 2.0, 20.0])
    probabilities, thresholds = _thresholds(T)
    n = 400_000
    for ss, expected in [(-4, np.ones(3)), (-2, np.ones(3)), (0, probabilities[0]), (2, probabilities[1]),
                         (4, probabilities[2])]:
        r = rng.integers(0, 256, size=(3, n), dtype=np.uint8)
        accepted = metropolis_acceptance(np.full((3, n), ss, np.int8), r, tuple(k[:, None] for k in thresholds),
                                         probabilities, rng)
        sigma = np.sqrt(expected * (1 - expected) / n)
        assert np.all(np.abs(accepted.mean(axis=1) - expected) <= 5 * sigma + 1e-12), (ss, accepted.mean(axis=1))
    assert probabilities[0][0] == 0.75 and probabilities[0][2] == pytest.approx(math.exp(-4 / 20))


# --- detailed balance: exact enumeration of tiny lattices ------------------------------------------

def run_chains(kind, L, temperatures, chains, measurements, between, equilibration, seed):
    T = np.repeat(temperatures, chains)
    spins = np.where(np.random.default_rng(seed).random((T.size, L, L)) < 0.5, 1, -1).astype(np.int8)
    sampler = CheckerboardMetropolis(spins, T, rng=seed) if kind == "metropolis" else WolffSampler(spins, T, rng=seed)
    sampler.sweep(equilibration)
    e, m = [], []
    for _ in range(measurements):
        sampler.sweep(between)
        s = sampler.spins
        e.append(energy_per_spin(s).reshape(len(temperatures), chains))
        m.append(magnetisation_per_spin(s).reshape(len(temperatures), chains))
    return np.array(e), np.array(m)  # (measurements, n_T, chains)


@pytest.mark.parametrize("kind", ["metropolis", "wolff"])
@pytest.mark.parametrize("L", [2, 4])
def test_energy_histogram_matches_exact_enumeration(kind, L):
    temperatures = np.array([1.5, 2.27, 3.0, 5.0])
    exact = exact_enumeration(L, temperatures)
    e, m = run_chains(kind, L, temperatures, chains=2000, measurements=10, between=3, equilibration=50, seed=L)
    levels = exact["levels"]
    for t in range(temperatures.size):
        index = np.searchsorted(levels, np.round(e[:, t], 12))
        per_chain = np.stack([(index == k).mean(axis=0) for k in range(levels.size)])  # (levels, chains)
        histogram = per_chain.mean(axis=1)
        error = per_chain.std(axis=1, ddof=1) / math.sqrt(per_chain.shape[1])
        assert np.all(np.abs(histogram - exact["probabilities"][t]) <= 5 * error + 2e-4), (
            temperatures[t], histogram, exact["probabilities"][t])
        chain_m = m[:, t].mean(axis=0)
        assert abs(chain_m.mean() - exact["abs_magnetisation"][t]) <= 5 * chain_m.std(ddof=1) / math.sqrt(2000) + 1e-4


def test_single_configuration_wolff_cluster():
    spins = np.ones((8, 8), np.int8)
    assert wolff_cluster(spins, 0.01, rng=0) == 64 and np.all(spins == -1)  # p_add = 1 - e^-200
    assert wolff_cluster(spins, 1e6, rng=0) == 1 and (spins == 1).sum() == 1  # p_add ≈ 2e-6


# --- the 32×32 lattice against Onsager and Yang ------------------------------------------------------

@pytest.fixture(scope="module")
def samples():
    return sample_ising(32, [1.5, 2.0, 2.2, 3.0], 64 * 16, rng=1)


def test_energy_matches_onsager_on_32x32(samples):
    assert list(samples.method) == ["metropolis", "metropolis", "wolff", "metropolis"]
    exact = onsager_energy_per_spin(samples.temperatures)
    # 4 standard errors plus a finite-size allowance (corrections at L = 32 are ~e^{-L/ξ})
    assert np.all(np.abs(samples.energy - exact) < 4 * samples.energy_err + 0.002), (samples.energy, exact)
    assert np.all(samples.energy_err < 0.005)


def test_magnetisation_matches_yang_on_32x32(samples):
    exact = yang_magnetisation(samples.temperatures[:2])  # T = 1.5, 2.0; at 2.2, L = 32 is too small
    assert np.all(np.abs(samples.magnetisation[:2] - exact) < 4 * samples.magnetisation_err[:2] + 0.002)
    assert samples.magnetisation[3] < 0.1  # disordered: |m| ~ (χT/N)^{1/2} only
    assert samples.binder[0] == pytest.approx(2 / 3, abs=1e-3) and abs(samples.binder[3]) < 0.3


def test_samples_have_the_documented_shapes_and_both_signs(samples):
    assert isinstance(samples, IsingSamples)
    assert samples.configs.shape == (4, 1024, 32, 32) and samples.configs.dtype == np.int8
    assert set(np.unique(samples.configs)) == {-1, 1}
    for name in ("energy", "magnetisation", "specific_heat", "susceptibility", "binder"):
        assert getattr(samples, name).shape == getattr(samples, f"{name}_err").shape == (4,)
        assert np.all(np.isfinite(getattr(samples, f"{name}_err")))
    X, T = samples.flat()
    assert X.shape == (4 * 1024, 1024) and T.shape == (4 * 1024,)
    # the global flip move: the ordered phase shows both signs equally often
    up = (samples.configs[0].sum(axis=(1, 2)) > 0).mean()
    assert 0.4 < up < 0.6
    # C and χ peak near T_c: larger at 2.0 than at 1.5
    assert samples.specific_heat[1] > samples.specific_heat[0] and samples.susceptibility[1] > samples.susceptibility[0]


def test_wolff_and_metropolis_agree_near_tc():
    kwargs = {"n_samples": 64 * 8, "rng": 3}
    temperatures = [2.2, 2.35]
    a = sample_ising(16, temperatures, method="wolff", **kwargs)
    b = sample_ising(16, temperatures, method="metropolis", **kwargs)
    assert list(b.sweeps_between) == [64, 64] and list(a.sweeps_between) == [4, 4]  # L²/4: inside the window
    for name in ("energy", "magnetisation", "specific_heat", "susceptibility", "binder"):
        difference = np.abs(getattr(a, name) - getattr(b, name))
        combined = np.hypot(getattr(a, f"{name}_err"), getattr(b, f"{name}_err"))
        assert np.all(difference < 4 * combined), (name, getattr(a, name), getattr(b, name), combined)


def test_same_seed_same_samples_and_progress_hook(capsys):
    calls = []
    a = sample_ising(8, [1.8, 2.3, 3.0], 40, rng=7, progress=lambda done, total: calls.append((done, total)))
    b = sample_ising(8, [1.8, 2.3, 3.0], 40, rng=7)
    assert np.array_equal(a.configs, b.configs) and np.array_equal(a.energy, b.energy)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == calls[-1][1] and len({t for _, t in calls}) == 1
    assert capsys.readouterr().out == ""


def test_extreme_temperatures():
    s = sample_ising(4, [1e-3, 1e6], 8, rng=0)
    assert s.energy[0] == -2.0 and s.magnetisation[0] == 1.0 and s.specific_heat[0] == 0.0
    assert abs(s.energy[1]) < 0.5


def test_explicit_schedule_and_chains():
    s = sample_ising(8, [1.5, 3.0], 10, sweeps_between=3, equilibration=0, chains=4)
    assert s.chains == 4 and s.configs.shape == (2, 10, 8, 8)
    assert list(s.sweeps_between) == [3, 3] and list(s.equilibration) == [0, 0]
    s = sample_ising(8, [1.5, 2.3], 10, sweeps_between={"metropolis": 7}, equilibration={"wolff": 3})
    assert list(s.method) == ["metropolis", "wolff"]
    assert list(s.sweeps_between) == [7, 4] and list(s.equilibration) == [500, 3]


# --- defaults and autocorrelation times -----------------------------------------------------------

def test_default_schedule_follows_the_measured_times():
    T = [1.0, 2.0, 2.27, 2.47, 3.5]
    equilibration, between = default_schedule(32, T, ["metropolis", "metropolis", "wolff", "metropolis", "metropolis"])
    # 2τ_|m| from the table (0.53, 5.15, -, 29.8, 1.27 sweeps) rounded up to 2, 5, 10, 20, 40, 80
    assert list(between) == [2, 20, 4, 80, 5] and list(equilibration) == [500, 500, 50, 500, 500]
    equilibration, forced = default_schedule(64, [2.27], "metropolis")
    assert forced[0] == 64 * 64 // 4 and equilibration[0] == 5 * 64 * 64
    assert WOLFF_WINDOW == 0.2


def test_wolff_decorrelates_faster_than_metropolis_near_tc():
    metropolis = measure_autocorrelation(16, [2.3], method="metropolis", n_measurements=3000, rng=0)
    wolff = measure_autocorrelation(16, [2.3], method="wolff", n_measurements=300, rng=0)
    assert metropolis["tau_magnetisation"][0] > 5
    assert wolff["tau_magnetisation"][0] < 2 and wolff["tau_energy"][0] < 2
    assert wolff["clusters_per_sweep"][0] >= 1


def ar1(phi, n, seed=0):
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=n)
    x = np.empty(n)
    x[0] = noise[0] / math.sqrt(1 - phi**2)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + noise[i]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.8])
def test_autocorrelation_time_and_blocking_on_ar1(phi):
    n = 100_000
    x = ar1(phi, n)
    tau, error = integrated_autocorrelation_time(x)
    exact_tau = (1 + phi) / (2 * (1 - phi))
    assert abs(tau - exact_tau) < 4 * error + 0.02
    exact_error = math.sqrt(2 * exact_tau / (1 - phi**2) / n)
    assert blocking_error(x)[0] == pytest.approx(exact_error, rel=0.2)


# --- files ----------------------------------------------------------------------------------------

def test_npz_round_trip(tmp_path):
    s = sample_ising(4, [1.5, 2.5], 6, rng=0)
    path = save_ising_npz(tmp_path / "ising.npz", s)
    save_ising_npz(path, s)  # overwriting is fine
    assert sorted(os.listdir(tmp_path)) == ["ising.npz"]  # no temporary files left behind
    t = load_ising_npz(path)
    for name in ("temperatures", "configs", "energy", "binder_err", "method", "sweeps_between"):
        assert np.array_equal(getattr(t, name), getattr(s, name))
    assert (t.L, t.chains) == (s.L, s.chains)
    with zipfile.ZipFile(path) as archive:  # plain arrays only
        assert all(not archive.read(name)[:128].count(b"'descr': '|O'") for name in archive.namelist())


def write_npz(path, **arrays):
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def test_foreign_files_are_rejected_with_the_reason(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such"):
        load_ising_npz(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not an .npz archive"):
        load_ising_npz(tmp_path / "text.npz")
    with pytest.raises(ValueError, match="no 'format' entry"):
        load_ising_npz(write_npz(tmp_path / "plain.npz", x=np.arange(3)))
    with pytest.raises(ValueError, match="format is .*something-else"):
        load_ising_npz(write_npz(tmp_path / "other.npz", format=np.array("something-else")))
    with pytest.raises(ValueError, match="pickled objects"):
        load_ising_npz(write_npz(tmp_path / "pickle.npz", format=np.array([{"a": 1}], dtype=object)))
    good = sample_ising(4, [2.0], 2, rng=0)
    save_ising_npz(tmp_path / "good.npz", good)
    with np.load(tmp_path / "good.npz") as data:
        arrays = dict(data)
    with pytest.raises(ValueError, match="missing binder"):
        load_ising_npz(write_npz(tmp_path / "partial.npz", **{k: v for k, v in arrays.items() if k != "binder"}))
    with pytest.raises(ValueError, match=r"configs of shape \(1, 2, 4, 2\)"):
        load_ising_npz(write_npz(tmp_path / "shape.npz", **{**arrays, "configs": arrays["configs"][..., :2]}))
    truncated = (tmp_path / "good.npz").read_bytes()[:200]
    (tmp_path / "truncated.npz").write_bytes(truncated)
    with pytest.raises(ValueError, match="not"):
        load_ising_npz(tmp_path / "truncated.npz")


def test_version_1_files_still_load(tmp_path):
    configs = np.ones((2, 3, 4, 4), np.int8)
    v1 = {name: np.zeros(2) for name in ("energy", "energy_err", "magnetisation", "magnetisation_err",
                                         "specific_heat", "susceptibility", "binder")}
    path = write_npz(tmp_path / "v1.npz", format=np.array("chainrule-ising-v1"), L=np.array(4),
                     temperatures=np.array([1.0, 3.0]), configs=configs, **v1)
    s = load_ising_npz(path)
    assert s.configs.shape == (2, 3, 4, 4) and np.isnan(s.binder_err).all()


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: sample_ising(1, [2.0], 10), "L must be an even integer >= 2, got 1"),
    (lambda: sample_ising(0, [2.0], 10), "L must be an even integer >= 2, got 0"),
    (lambda: sample_ising(7, [2.0], 10), "L must be an even integer >= 2, got 7"),
    (lambda: sample_ising(2.5, [2.0], 10), "L must be an even integer >= 2, got 2.5"),
    (lambda: sample_ising("8", [2.0], 10), "L must be an even integer >= 2, got '8'"),
    (lambda: sample_ising(8, [2.0, -1.0], 10), "temperatures must be finite and > 0, got -1.0"),
    (lambda: sample_ising(8, [0.0], 10), "temperatures must be finite and > 0, got 0.0"),
    (lambda: sample_ising(8, [2.0, float("nan")], 10), "temperatures must be finite and > 0, got nan"),
    (lambda: sample_ising(8, [float("inf")], 10), "temperatures must be finite and > 0, got inf"),
    (lambda: sample_ising(8, [], 10), "temperatures must be a non-empty"),
    (lambda: sample_ising(8, ["hot"], 10), "temperatures must be numbers"),
    (lambda: sample_ising(8, [2.0], 0), "n_samples must be an integer >= 1, got 0"),
    (lambda: sample_ising(8, [2.0], -3), "n_samples must be an integer >= 1, got -3"),
    (lambda: sample_ising(8, [2.0], 1.5), "n_samples must be an integer >= 1, got 1.5"),
    (lambda: sample_ising(8, [2.0], 4, chains=0), "chains must be an integer >= 1, got 0"),
    (lambda: sample_ising(8, [2.0], 4, sweeps_between=0), "sweeps_between must be an integer >= 1, got 0"),
    (lambda: sample_ising(8, [2.0], 4, equilibration=-1), "equilibration must be an integer >= 0, got -1"),
    (lambda: sample_ising(8, [2.0], 4, method="heat-bath"), "method must be one of .*got 'heat-bath'"),
    (lambda: sample_ising(8, [2.0], 4, sweeps_between={"gibbs": 3}), "sweeps_between keys must be .*gibbs"),
    (lambda: sample_ising(8, [2.0], 4, equilibration={"wolff": -2}), r"equilibration\['wolff'\] must be .*got -2"),
    (lambda: CheckerboardMetropolis(np.ones((2, 4, 4), np.int8), [2.0]), "got 1 temperatures for 2 chains"),
    (lambda: WolffSampler(np.ones((1, 4, 4)), [2.0]), "spins must be int8"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_toy_generator_is_labelled_not_physical():
    X, y = toy_ising_configurations(4, 10, rng=0)
    assert X.shape == (10, 16) and X.dtype == np.int8 and list(y) == [0] * 5 + [1] * 5
    assert "NOT physical" in toy_ising_configurations.__doc__


# --- longer checks ------------------------------------------------------------------------------

@pytest.mark.slow
def test_64x64_against_onsager_and_yang():
    temperatures = [1.5, 2.0, 2.2, 2.6, 3.0]
    s = sample_ising(64, temperatures, 64 * 32, rng=11)
    exact_u = onsager_energy_per_spin(temperatures)
    assert np.all(np.abs(s.energy - exact_u) < 4 * s.energy_err + 0.002), (s.energy, exact_u)
    below = s.temperatures < T_C
    exact_m = yang_magnetisation(s.temperatures[below])
    assert np.all(np.abs(s.magnetisation[below] - exact_m) < 4 * s.magnetisation_err[below] + 0.005)


@pytest.mark.slow
def test_binder_cumulants_cross_near_tc():
    temperatures = np.array([2.1, 2.2, 2.27, 2.35, 2.45])
    small = sample_ising(8, temperatures, 64 * 64, rng=5)
    large = sample_ising(32, temperatures, 64 * 64, rng=6)
    # U_L is higher for the larger lattice below T_c and lower above: the curves cross at T_c
    assert large.binder[0] > small.binder[0] and large.binder[-1] < small.binder[-1]
    difference = large.binder - small.binder
    crossing = np.interp(0.0, -difference, temperatures)
    assert abs(crossing - T_C) < 0.05
