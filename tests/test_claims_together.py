"""The claims of docs/together.md, one test each."""

import keras
import numpy as np
import pytest

import docsite
from docsite import ROOT, record

SHIFT = ROOT / "snippets/together/variance_shift.py"


@pytest.mark.claim("together/variance-shift")
def test_variance_shift():
    run = docsite.run_snippet(SHIFT)
    mean, spread = run["shift"][False]  # Dropout right before BN
    # Dropout(0.5): training variance = 2 sigma^2 + mu^2 >= 2 sigma^2.
    assert mean > 1.8
    assert spread < 0.1  # the masks agree to the digit shown
    record("together", "shift_dropout_first", mean, digits=1)
    record("together", "shift_dropout_first_spread", spread, digits=2)
    record("together", "shift_masks", run["MASKS"])
    # With nothing random before it, BN receives the same input in both
    # modes: Dense computes the same thing in training and in inference.
    x = run["x_train"][:64]
    dense = keras.layers.Dense(8, activation="relu")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(dense(x, training=True)),
        keras.ops.convert_to_numpy(dense(x, training=False)),
    )


@pytest.mark.claim("together/variance-shift-stacked")
def test_variance_shift_through_a_dense_layer():
    shift = docsite.run_snippet(SHIFT)["shift"]
    mean, spread = shift[True]  # Dropout -> Dense -> BN of the next block
    first = shift[False][0]
    assert 1.2 < mean < first - 0.3  # weakened, not removed
    assert spread < 0.1
    record("together", "shift_stacked", mean, digits=1)
    record("together", "shift_stacked_spread", spread, digits=2)


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


@pytest.mark.claim("together/shift-harm-depends-on-data")
def test_dropout_before_bn_hurt_on_unscaled_features_only():
    from experiments.results import read

    results = read(ROOT / "docs" / "data" / "results.json")
    d = results["differences"]  # dropout before BN minus another order, per seed
    seeds = len(results["config"]["seeds"])
    for name in ("cancer_dropout_then_bn", "cancer_dropout_then_bn_vs_usual"):
        assert d[name]["below"] == seeds and d[name]["high"] < 0
    for name in (
        "scaled_dropout_then_bn",
        "scaled_dropout_then_bn_vs_usual",
        "diabetes_dropout_then_bn",
    ):
        assert d[name]["low"] < 0 < d[name]["high"]


@pytest.mark.claim("together/variance-shift-mean-one")
def test_variance_shift_for_mean_one_variance_one():
    """Mean 1 and variance 1 behind Dropout(0.5): (1 + 1) / 0.5 - 1 = 3."""
    x = np.random.default_rng(0).normal(1.0, 1.0, size=(1_000_000,))
    x = x.astype("float32")
    keras.utils.set_random_seed(0)
    layer = keras.layers.Dropout(0.5)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    training = keras.ops.convert_to_numpy(layer(x, training=True))
    assert x.mean() == pytest.approx(1.0, abs=0.01)
    assert x.var() == pytest.approx(1.0, rel=0.01)
    assert training.var() == pytest.approx(3.0, rel=0.01)
