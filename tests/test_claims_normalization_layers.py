"""The claims of docs/normalization-layers.md, one test each."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

import docsite
from docsite import ROOT, record

PAGE = "normalization-layers"
BATCH_SIZES = [2, 4, 8, 16, 32, 64, 128, 256]
PER_EXAMPLE = ["ln", "gn", "rms", "unit", "norm"]


def as_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def snippet(name):
    return docsite.run_snippet(ROOT / "snippets" / PAGE / f"{name}.py")


@pytest.fixture(scope="module")
def digits():
    """The 1,797 digits as 64 features in [0, 1]."""
    return (load_digits().data / 16.0).astype("float32")


def new_layers(adapt_on):
    """A new layer of each kind, with default arguments (4 groups for GN)."""
    normalization = keras.layers.Normalization()
    normalization.adapt(adapt_on)
    return {
        "bn": keras.layers.BatchNormalization(),
        "ln": keras.layers.LayerNormalization(),
        "gn": keras.layers.GroupNormalization(groups=4),
        "rms": keras.layers.RMSNormalization(),
        "unit": keras.layers.UnitNormalization(),
        "norm": normalization,
    }


@pytest.mark.claim("normalization-layers/batch-dependence")
def test_batch_dependence(digits):
    # One example, in two batches of the same size whose other examples differ.
    layers = new_layers(digits)
    example = digits[:1]
    moved = {key: [] for key in layers}
    for size in BATCH_SIZES:
        first = np.concatenate([example, digits[1:size]])
        second = np.concatenate([example, digits[size : 2 * size - 1]])
        for key, layer in layers.items():
            a = as_numpy(layer(first, training=True))[0]
            b = as_numpy(layer(second, training=True))[0]
            moved[key].append(float(np.abs(a - b).max()))
    assert min(moved["bn"]) > 0.1
    # Not steadily less as the batch grows.
    assert any(b > a for a, b in zip(moved["bn"], moved["bn"][1:], strict=False))
    for key in PER_EXAMPLE:
        assert moved[key] == [0.0] * len(BATCH_SIZES)
    record(PAGE, "batch_sizes", BATCH_SIZES)
    record(PAGE, "moved_bn_min", min(moved["bn"]))
    record(PAGE, "moved_bn_max", max(moved["bn"]))
    for key, values in moved.items():
        for size, value in zip(BATCH_SIZES, values, strict=True):
            record(PAGE, f"moved_{key}_{size}", value)


@pytest.mark.claim("normalization-layers/alone-or-in-batch")
def test_alone_or_in_batch(digits):
    layers = new_layers(digits)
    for key in PER_EXAMPLE:
        alone = as_numpy(layers[key](digits[:1], training=True))[0]
        in_batch = as_numpy(layers[key](digits[:256], training=True))[0]
        difference = np.abs(alone - in_batch).max()
        if key in ("ln", "gn"):
            assert difference < 1e-6  # float32 rounding
        else:
            assert difference == 0


@pytest.mark.claim("normalization-layers/axes")
def test_axes():
    """Each layer against NumPy, on channels-last images (batch, h, w, c)."""
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(6, 3, 3, 8)).astype("float32")
    eps = 1e-3

    def standardise(values, axes, epsilon=eps):
        mean = values.mean(axis=axes, keepdims=True)
        var = values.var(axis=axes, keepdims=True)
        return (values - mean) / np.sqrt(var + epsilon)

    def close(actual, expected):
        np.testing.assert_allclose(as_numpy(actual), expected, atol=2e-5)

    # BatchNormalization: per channel, over the batch and every pixel.
    close(
        keras.layers.BatchNormalization()(x, training=True), standardise(x, (0, 1, 2))
    )
    # LayerNormalization, default axis=-1: per example and pixel, over channels.
    close(keras.layers.LayerNormalization()(x), standardise(x, (3,)))
    # LayerNormalization over a whole image.
    close(keras.layers.LayerNormalization(axis=[1, 2, 3])(x), standardise(x, (1, 2, 3)))
    # GroupNormalization(groups=4): per example and group of 2 channels,
    # over every pixel of the group's channels.
    grouped = x.reshape(6, 3, 3, 4, 2)
    close(
        keras.layers.GroupNormalization(groups=4)(x),
        standardise(grouped, (1, 2, 4)).reshape(x.shape),
    )
    # RMSNormalization: per example and pixel, over channels, no mean.
    rms = np.sqrt((x**2).mean(axis=3, keepdims=True) + 1e-6)
    close(keras.layers.RMSNormalization()(x), x / rms)
    # UnitNormalization: per example and pixel, L2 norm over channels.
    norm = np.sqrt((x**2).sum(axis=3, keepdims=True))
    close(keras.layers.UnitNormalization()(x), x / norm)
    # Normalization, axis=-1: per channel, over the adapted data's batch and
    # pixels.
    normalization = keras.layers.Normalization()
    normalization.adapt(x)
    close(normalization(x), standardise(x, (0, 1, 2), epsilon=0))


@pytest.mark.claim("normalization-layers/statistics-kept")
def test_statistics_kept(digits):
    layers = new_layers(digits)
    for layer in layers.values():
        layer(digits[:32], training=True)

    def names(weights):
        return sorted(w.name for w in weights)

    assert names(layers["bn"].non_trainable_weights) == [
        "moving_mean",
        "moving_variance",
    ]
    # Normalization: the adapted mean and variance (and a count, unused).
    assert names(layers["norm"].non_trainable_weights) == [
        "count",
        "mean",
        "variance",
    ]
    for key in ("ln", "gn", "rms", "unit"):
        assert layers[key].non_trainable_weights == []


@pytest.mark.claim("normalization-layers/training-vs-inference")
def test_training_vs_inference(digits):
    layers = new_layers(digits)
    batch = digits[:32]
    for key, layer in layers.items():
        training = as_numpy(layer(batch, training=True))
        inference = as_numpy(layer(batch, training=False))
        if key == "bn":
            assert np.abs(training - inference).max() > 0.1
        else:
            np.testing.assert_array_equal(training, inference)


@pytest.mark.claim("normalization-layers/learnable-parameters")
def test_learnable_parameters(digits):
    layers = new_layers(digits)
    for layer in layers.values():
        layer(digits[:2])

    def names(weights):
        return sorted(w.name for w in weights)

    for key in ("bn", "ln", "gn"):
        assert names(layers[key].trainable_weights) == ["beta", "gamma"]
        assert all(w.shape == (64,) for w in layers[key].trainable_weights)
    assert names(layers["rms"].trainable_weights) == ["scale"]
    assert layers["unit"].weights == []
    assert layers["norm"].trainable_weights == []
    for key, layer in layers.items():
        trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
        record(PAGE, f"params_{key}", trainable)


@pytest.mark.claim("normalization-layers/epsilons")
def test_epsilons():
    assert keras.layers.BatchNormalization().epsilon == 1e-3
    assert keras.layers.LayerNormalization().epsilon == 1e-3
    assert keras.layers.GroupNormalization().epsilon == 1e-3
    assert keras.layers.RMSNormalization().epsilon == 1e-6
    # Normalization divides by max(sqrt(variance), 1e-7): a feature that was
    # constant when adapted is multiplied by ten million if it later moves.
    normalization = keras.layers.Normalization()
    normalization.adapt(np.array([[0.0, 1.0], [0.0, 3.0]], dtype="float32"))
    out = as_numpy(normalization(np.array([[1.0, 2.0]], dtype="float32")))
    np.testing.assert_allclose(out, [[1e7, 0.0]], rtol=1e-6)
    scaler = StandardScaler().fit([[0.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(scaler.transform([[1.0, 2.0]]), [[1.0, 0.0]])


@pytest.mark.claim("normalization-layers/group-norm-extremes")
def test_group_norm_extremes():
    x = np.random.default_rng(1).normal(size=(4, 5, 5, 8)).astype("float32")
    one_group = keras.layers.GroupNormalization(groups=1)(x)
    layer_norm = keras.layers.LayerNormalization(axis=[1, 2, 3])(x)
    np.testing.assert_allclose(as_numpy(one_group), as_numpy(layer_norm), atol=1e-5)
    per_channel = as_numpy(keras.layers.GroupNormalization(groups=-1)(x))
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(per_channel, (x - mean) / np.sqrt(var + 1e-3), atol=1e-5)


@pytest.mark.claim("normalization-layers/group-norm-consecutive-groups")
def test_group_norm_consecutive_groups():
    x = np.random.default_rng(4).normal(size=(2, 4, 4, 6)).astype("float32")
    out = as_numpy(keras.layers.GroupNormalization(groups=3)(x))
    for group in range(3):
        channels = x[..., 2 * group : 2 * group + 2]  # two consecutive channels
        mean = channels.mean(axis=(1, 2, 3), keepdims=True)
        var = channels.var(axis=(1, 2, 3), keepdims=True)
        expected = (channels - mean) / np.sqrt(var + 1e-3)
        np.testing.assert_allclose(
            out[..., 2 * group : 2 * group + 2], expected, atol=1e-5
        )
    with pytest.raises(ValueError, match="multiple"):
        keras.layers.GroupNormalization(groups=4)(x)  # 6 channels


@pytest.mark.claim("normalization-layers/sequence-steps")
def test_sequence_steps():
    x = np.random.default_rng(5).normal(size=(4, 6, 8)).astype("float32")
    other = np.random.default_rng(6).normal(size=x.shape).astype("float32")
    other[1, 3] = x[1, 3]  # one time step of one sequence in common
    for layer in (keras.layers.LayerNormalization(), keras.layers.RMSNormalization()):
        out = as_numpy(layer(x, training=True))
        # That time step alone, in a sequence of one step: the same output.
        alone = as_numpy(layer(x[1:2, 3:4], training=True))
        np.testing.assert_allclose(out[1:2, 3:4], alone, atol=1e-6)
        # Other time steps and other sequences around it change nothing.
        around = as_numpy(layer(other, training=True))
        np.testing.assert_allclose(around[1, 3], out[1, 3], atol=1e-6)


@pytest.mark.claim("normalization-layers/rms-is-layer-norm-without-mean")
def test_rms_is_layer_norm_without_mean():
    x = np.random.default_rng(2).normal(size=(16, 32)).astype("float32")
    centred = x - x.mean(axis=-1, keepdims=True)
    rms = keras.layers.RMSNormalization(epsilon=1e-3)
    ln = keras.layers.LayerNormalization(epsilon=1e-3, center=False)
    np.testing.assert_allclose(as_numpy(rms(centred)), as_numpy(ln(centred)), atol=1e-5)
    # On an input whose mean is not zero, the two differ.
    shifted = x + 3.0
    assert np.abs(as_numpy(rms(shifted)) - as_numpy(ln(shifted))).max() > 0.5


@pytest.mark.claim("normalization-layers/unit-norm")
def test_unit_norm():
    x = np.random.default_rng(3).normal(size=(8, 10)).astype("float32")
    layer = keras.layers.UnitNormalization()
    out = as_numpy(layer(x))
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(as_numpy(layer(3.0 * x)), out, rtol=1e-6)
    assert layer.weights == []


@pytest.mark.claim("normalization-layers/group-norm-trains")
def test_group_norm_trains():
    script = snippet("group_norm_cnn")
    # An image gets the same output alone or among 63 others, training mode too.
    model, x_test = script["model"], script["x_test"]
    alone = as_numpy(model(x_test[:1], training=True))
    in_batch = as_numpy(model(x_test[:64], training=True))[:1]
    np.testing.assert_allclose(alone, in_batch, atol=1e-5)
    accuracy = float(script["test_accuracy"])
    assert accuracy > 0.85
    record(PAGE, "gn_test_accuracy", accuracy, digits=3)


@pytest.mark.claim("normalization-layers/rms-norm-trains")
def test_rms_norm_trains():
    script = snippet("rms_norm_mlp")
    accuracy = float(script["test_accuracy"])
    assert accuracy > 0.85
    record(PAGE, "rms_test_accuracy", accuracy, digits=3)


@pytest.mark.claim("normalization-layers/adapt-matches-scaler")
def test_adapt_matches_scaler():
    script = snippet("adapt_first")
    normalizer, x_train, x_test = (
        script["normalizer"],
        script["x_train"],
        script["x_test"],
    )
    scaler = StandardScaler().fit(x_train)
    for x in (x_train, x_test):
        np.testing.assert_allclose(
            as_numpy(normalizer(x)), scaler.transform(x), rtol=1e-4, atol=1e-5
        )
    accuracy = float(script["test_accuracy"])
    assert accuracy > 0.85
    record(PAGE, "adapt_test_accuracy", accuracy, digits=3)


@pytest.mark.claim("normalization-layers/adapt-frozen")
def test_adapt_frozen():
    script = snippet("adapt_first")
    normalizer, model = script["normalizer"], script["model"]
    assert normalizer.trainable_weights == []
    assert int(model.optimizer.iterations) > 0
    for now, adapted in zip(normalizer.get_weights(), script["adapted"], strict=True):
        np.testing.assert_array_equal(now, adapted)
    np.testing.assert_allclose(
        normalizer.get_weights()[0],
        script["x_train"].mean(axis=0),
        rtol=1e-5,
        atol=1e-6,
    )
