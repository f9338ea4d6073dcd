"""Defects found by the plotting audit: each test fails on the code before its fix."""

import numpy as np
import pytest

from chainrule.ising_confusion import confusion_peak

# --- learning by confusion: the apex marked is that of the peak drawn ------------------------------------------

# `chainrule ising confusion` on an L = 16 data set (20 temperatures 1..3.5): an outlier at
# T' = 1.72 (0.933, just past the cold dip) once took a one-point flank of the tent fit, and the
# apex was marked at 1.789 while the curve drawn peaks at 2.38
AUDIT_TRIALS = (np.linspace(1, 3.5, 20)[:-1] + np.linspace(1, 3.5, 20)[1:]) / 2
AUDIT_ACCURACY = np.array([0.95, 0.9, 0.85, 0.8, 0.75, 0.933, 0.877, 0.886, 0.911, 0.935, 0.942, 0.937, 0.913,
                           0.863, 0.8, 0.805, 0.85, 0.9, 0.95])


def test_confusion_apex_stays_on_the_inner_peak_despite_an_outlier_past_the_dip():
    baseline = np.minimum(1.0, 0.5 + 0.05 * np.abs(np.arange(19) - 9))
    tc, peak = confusion_peak(AUDIT_TRIALS, AUDIT_ACCURACY, baseline=baseline)
    best = int(np.argmax(AUDIT_ACCURACY[6:13])) + 6  # the inner peak drawn: 0.942 at T' = 2.38
    assert AUDIT_TRIALS[best - 1] <= tc <= AUDIT_TRIALS[best + 1]
    assert tc == pytest.approx(2.43, abs=0.03)
    # the fitted trials are the peak's own flanks: the outlier past the cold dip is not one of them
    assert peak[0] == pytest.approx(AUDIT_TRIALS[6]) and peak[-1] == pytest.approx(AUDIT_TRIALS[12])


def test_confusion_apex_is_sought_between_the_peak_trials_neighbours():
    trials = np.arange(11.0)
    # a shoulder right of the peak (0.94, 0.94) then one low point: over the whole window the
    # least-squares apex went to 6.8, beyond the shoulder, with that point as a one-point flank
    accuracy = np.r_[1.0, 0.5, 0.6, 0.9, 0.93, 0.97, 0.94, 0.94, 0.79, 0.5, 1.0]
    tc, peak = confusion_peak(trials, accuracy)
    assert 4.0 <= tc <= 6.0 and peak.tolist() == [3, 4, 5, 6, 7, 8]


def test_confusion_tent_gives_the_fitted_flanks_to_draw():
    from chainrule.ising_confusion import confusion_tent

    trials = np.arange(9.0)
    accuracy = np.r_[1.0, 0.7, 0.8, 0.875, 0.95, 0.875, 0.8, 0.7, 1.0]  # a tent over 2..6, apex 0.95 at 4
    tc, peak = confusion_peak(trials, accuracy)
    x, y = confusion_tent(trials, accuracy, tc, peak)
    np.testing.assert_allclose(x, [peak[0], tc, peak[-1]])
    np.testing.assert_allclose(y, [0.8, 0.95, 0.8], atol=1e-9)
    assert confusion_tent(trials, accuracy, 4.0, np.array([3.0, 4.0, 5.0])) is None  # nothing was fitted
