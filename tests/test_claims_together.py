"""The claims of docs/together.md, one test each."""

import keras
import numpy as np
import pytest

import docsite
from docsite import ROOT, record


@pytest.mark.claim("together/variance-shift")
def test_variance_shift():
    shift = docsite.run_snippet(ROOT / "snippets/together/variance_shift.py")["shift"]
    # Dropout(0.5) first: training variance = 2 sigma^2 + mu^2 >= 2 sigma^2.
    assert shift[True] > 1.8
    # BatchNormalization first: it sees the same input in both modes.
    assert abs(shift[False] - 1) < 1e-4
    record("together", "shift_dropout_first", shift[True], digits=2)
    record("together", "shift_bn_first", shift[False], digits=2)


@pytest.mark.claim("together/gaussian-dropout-same-shift")
def test_gaussian_dropout_shifts_variance_as_much_as_dropout():
    # ReLU-like inputs: mean mu and variance sigma^2 at inference.
    x = np.abs(np.random.default_rng(0).normal(size=(1_000_000,))).astype("float32")
    rate = 0.5
    expected = ((x.var() + x.mean() ** 2) / (1 - rate) - x.mean() ** 2) / x.var()
    keras.utils.set_random_seed(0)
    for layer in (keras.layers.Dropout(rate), keras.layers.GaussianDropout(rate)):
        training = keras.ops.convert_to_numpy(layer(x, training=True))
        assert training.var() / x.var() == pytest.approx(expected, rel=0.01), layer
