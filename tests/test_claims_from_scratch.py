"""Claims of docs/from-scratch.md, checked with the page's own NumPy code.

Each test runs the page's script (once per session, shared with the snippet
test) and uses the functions it defines, against fresh Keras layers.
"""

import inspect
import math

import keras
import numpy as np
import pytest

import docsite

PAGE = "from-scratch"
SNIPPETS = docsite.ROOT / "snippets" / PAGE
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


def dropout_script() -> dict:
    return docsite.run_snippet(SNIPPETS / "dropout_numpy.py")


def batch_norm_script() -> dict:
    return docsite.run_snippet(SNIPPETS / "batch_norm_numpy.py")


def numpy(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(tensor)


def batch(rng, shape) -> np.ndarray:
    return rng.normal(loc=5.0, scale=3.0, size=shape).astype("float32")


def batch_norm(weights, **kwargs):
    """A built Keras layer holding `weights` (gamma, beta, moving mean and
    variance), with its other arguments given by `kwargs`."""
    layer = keras.layers.BatchNormalization(**kwargs)
    layer.build((None, len(weights[0])))
    layer.set_weights(weights)
    return layer


# Dropout


@pytest.mark.claim("from-scratch/dropout-zero-fraction")
def test_dropout_zeroes_a_fraction_rate_of_the_elements():
    script = dropout_script()
    rate, size = script["rate"], script["x"].size
    band = 4 * np.sqrt(rate * (1 - rate) / size)  # 4 binomial std deviations
    assert script["band"] == band
    for fraction in (script["zero_fraction"], script["numpy_zero_fraction"]):
        assert abs(fraction - rate) < band, (fraction, rate, band)
    # Other rates, other seeds: still within the band of their own rate.
    rng = np.random.default_rng(1)
    x = rng.uniform(1.0, 2.0, size=(500, 200)).astype("float32")
    for rate in (0.1, 0.5, 0.8):
        band = 4 * np.sqrt(rate * (1 - rate) / x.size)
        out = numpy(keras.layers.Dropout(rate, seed=7)(x, training=True))
        ours = script["dropout"](x, rate, training=True, rng=rng)
        for fraction in (np.mean(out == 0), np.mean(ours == 0)):
            assert abs(fraction - rate) < band, (fraction, rate, band)
    # How often a correct implementation leaves the band (normal
    # approximation), and how far outside it the mistaken rate 1 - rate
    # (the keep probability) lands, in standard deviations.
    sigma = script["band"] / 4
    false_alarm = math.erfc(4 / math.sqrt(2))
    docsite.record(PAGE, "band_false_alarm_odds", int(round(1 / false_alarm, -3)))
    swapped = abs((1 - script["rate"]) - script["rate"]) / sigma
    docsite.record(PAGE, "swapped_rate_sigmas", int(swapped))
    docsite.record(PAGE, "dropout_elements", int(size))
    docsite.record(PAGE, "dropout_rate", float(script["rate"]))
    docsite.record(PAGE, "dropout_band", float(script["band"]))
    docsite.record(PAGE, "dropout_zero_fraction", float(script["zero_fraction"]))
    docsite.record(
        PAGE, "numpy_dropout_zero_fraction", float(script["numpy_zero_fraction"])
    )


@pytest.mark.claim("from-scratch/dropout-same-output")
def test_numpy_dropout_reproduces_keras_bit_for_bit():
    dropout = dropout_script()["dropout"]
    rng = np.random.default_rng(2)
    x = rng.uniform(1.0, 2.0, size=(300, 40)).astype("float32")
    for rate in (0.1, 0.3, 0.5, 0.9):
        out = numpy(keras.layers.Dropout(rate, seed=3)(x, training=True))
        keep = out != 0
        assert 0 < keep.sum() < keep.size  # something kept, something dropped
        ours = dropout(x, rate, training=True, keep=keep)
        assert ours.dtype == out.dtype == np.float32
        np.testing.assert_array_equal(ours, out)
        np.testing.assert_allclose(out[keep], x[keep] / (1 - rate), rtol=1e-6)


@pytest.mark.claim("from-scratch/dropout-inference-identity")
def test_dropout_at_inference_returns_its_input():
    dropout = dropout_script()["dropout"]
    x = np.random.default_rng(3).normal(size=(64, 16)).astype("float32")
    layer = keras.layers.Dropout(0.5, seed=0)
    np.testing.assert_array_equal(numpy(layer(x)), x)  # the default call
    np.testing.assert_array_equal(numpy(layer(x, training=False)), x)
    assert dropout(x, 0.5, training=False) is x


# Batch normalization


@pytest.mark.claim("from-scratch/bn-defaults")
def test_numpy_batch_norm_has_keras_defaults():
    script = batch_norm_script()
    keras_defaults = inspect.signature(keras.layers.BatchNormalization).parameters
    train = inspect.signature(script["batch_norm_train"]).parameters
    inference = inspect.signature(script["batch_norm_inference"]).parameters
    assert train["momentum"].default == keras_defaults["momentum"].default == 0.99
    assert keras_defaults["epsilon"].default == 1e-3
    assert train["epsilon"].default == inference["epsilon"].default == 1e-3
    assert keras_defaults["axis"].default == -1


@pytest.mark.claim("from-scratch/bn-biased-variance")
def test_training_mode_divides_the_variance_by_m():
    train = batch_norm_script()["batch_norm_train"]
    m, features = 8, 4  # a small batch, where m and m - 1 differ most
    x = batch(np.random.default_rng(4), (m, features))
    ones, zeros = np.ones(features, "float32"), np.zeros(features, "float32")
    keras_y = numpy(batch_norm([ones, zeros, zeros, ones])(x, training=True))
    y, _, _ = train(x, ones, zeros, zeros, ones)
    np.testing.assert_allclose(keras_y, y, **TOLERANCE)
    # Normalizing with the unbiased variance (m - 1) gives other outputs.
    unbiased = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + 1e-3)
    assert np.max(np.abs(keras_y - unbiased)) > 100 * TOLERANCE["atol"]
    # The moving variance averages the same biased variance: with momentum
    # 0, one update leaves exactly the batch's.
    layer = batch_norm([ones, zeros, zeros, ones], momentum=0.0)
    layer(x, training=True)
    _, _, _, moving_variance = layer.get_weights()
    np.testing.assert_allclose(moving_variance, x.var(axis=0), **TOLERANCE)
    assert np.all(x.var(axis=0, ddof=1) > moving_variance * 1.1)


@pytest.mark.claim("from-scratch/bn-channel-statistics")
def test_statistics_of_a_4d_input_are_per_channel_over_n_h_w():
    train = batch_norm_script()["batch_norm_train"]
    x = batch(np.random.default_rng(5), (4, 6, 6, 3))  # (N, H, W, C)
    # With momentum 0, one update replaces the moving statistics by the
    # batch's own, which exposes what Keras computed.
    layer = keras.layers.BatchNormalization(momentum=0.0)
    layer(x, training=True)
    gamma, beta, moving_mean, moving_variance = layer.get_weights()
    assert gamma.shape == beta.shape == moving_mean.shape == (3,)
    np.testing.assert_allclose(moving_mean, x.mean(axis=(0, 1, 2)), **TOLERANCE)
    np.testing.assert_allclose(moving_variance, x.var(axis=(0, 1, 2)), **TOLERANCE)
    _, mean, variance = train(x, gamma, beta, 0.0, 1.0, momentum=0.0)
    np.testing.assert_allclose(moving_mean, mean, **TOLERANCE)
    np.testing.assert_allclose(moving_variance, variance, **TOLERANCE)


@pytest.mark.claim("from-scratch/bn-training-ignores-moving")
def test_training_output_does_not_depend_on_moving_statistics():
    train = batch_norm_script()["batch_norm_train"]
    rng = np.random.default_rng(6)
    x = batch(rng, (32, 4))
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.normal(size=4)
    moving = [
        (np.zeros(4), np.ones(4)),
        (rng.normal(scale=100.0, size=4), rng.uniform(0.01, 100.0, size=4)),
    ]
    keras_outputs, numpy_outputs = [], []
    for moving_mean, moving_variance in moving:
        layer = batch_norm([gamma, beta, moving_mean, moving_variance])
        keras_outputs.append(numpy(layer(x, training=True)))
        numpy_outputs.append(train(x, gamma, beta, moving_mean, moving_variance)[0])
    np.testing.assert_array_equal(keras_outputs[0], keras_outputs[1])
    np.testing.assert_array_equal(numpy_outputs[0], numpy_outputs[1])
    np.testing.assert_allclose(keras_outputs[0], numpy_outputs[0], **TOLERANCE)


@pytest.mark.claim("from-scratch/bn-moving-update")
def test_moving_statistics_follow_the_update_rule():
    train = batch_norm_script()["batch_norm_train"]
    rng = np.random.default_rng(7)
    momentum = 0.9  # not the default, so that it must be passed through
    ones, zeros = np.ones(4, "float32"), np.zeros(4, "float32")
    layer = batch_norm([ones, zeros, zeros, ones], momentum=momentum)
    moving_mean, moving_variance = zeros, ones
    for _ in range(3):
        x = batch(rng, (32, 4))
        layer(x, training=True)
        expected_mean = momentum * moving_mean + (1 - momentum) * x.mean(axis=0)
        expected_variance = momentum * moving_variance + (1 - momentum) * x.var(axis=0)
        _, moving_mean, moving_variance = train(
            x, ones, zeros, moving_mean, moving_variance, momentum=momentum
        )
        np.testing.assert_allclose(moving_mean, expected_mean, **TOLERANCE)
        np.testing.assert_allclose(moving_variance, expected_variance, **TOLERANCE)
        _, _, keras_mean, keras_variance = layer.get_weights()
        np.testing.assert_allclose(keras_mean, moving_mean, **TOLERANCE)
        np.testing.assert_allclose(keras_variance, moving_variance, **TOLERANCE)


@pytest.mark.claim("from-scratch/bn-inference-moving-only")
def test_inference_uses_only_the_moving_statistics():
    inference = batch_norm_script()["batch_norm_inference"]
    rng = np.random.default_rng(8)
    weights = [
        rng.uniform(0.5, 2.0, 4).astype("float32"),
        rng.normal(size=4).astype("float32"),
        rng.normal(size=4).astype("float32"),
        rng.uniform(0.5, 2.0, 4).astype("float32"),
    ]
    layer = batch_norm(weights)
    x = batch(rng, (16, 4))
    y = numpy(layer(x, training=False))
    np.testing.assert_allclose(y, inference(x, *weights), **TOLERANCE)
    # Each example's output is its own: the rest of the batch plays no part.
    one_by_one = np.concatenate([numpy(layer(row[None], training=False)) for row in x])
    np.testing.assert_allclose(y, one_by_one, **TOLERANCE)
    # And an inference call changes nothing in the layer.
    for before, after in zip(weights, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.claim("from-scratch/bn-matches-keras")
def test_numpy_batch_norm_matches_keras_within_tolerance():
    script = batch_norm_script()  # its own run compared (N, C) and (N, H, W, C)
    assert script["TOLERANCE"] == TOLERANCE
    # The same comparison on a 3-D input (N, T, C) and a single update.
    script["compare_with_keras"]((10, 7, 2), updates=1)
    script["compare_with_keras"]((10, 7, 2), updates=5)
