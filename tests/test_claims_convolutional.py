"""The claims of docs/convolutional.md, one test each."""

import keras
import numpy as np
import pytest

import docsite
from docsite import ROOT, record

SNIPPETS = ROOT / "snippets" / "convolutional"


def as_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def script(name):
    return docsite.run_snippet(SNIPPETS / f"{name}.py")


@pytest.fixture
def maps():
    """Feature maps, channels last: (batch, height, width, channels)."""
    rng = np.random.default_rng(0)
    return rng.normal(2.0, 3.0, size=(16, 8, 8, 4)).astype("float32")


@pytest.fixture
def positive():
    """Strictly positive feature maps: no zeros of their own."""
    rng = np.random.default_rng(0)
    return rng.uniform(0.5, 1.5, size=(256, 8, 8, 16)).astype("float32")


@pytest.mark.claim("convolutional/bn-per-channel")
def test_bn_one_mean_and_variance_per_channel(maps):
    bn = keras.layers.BatchNormalization()  # axis=-1
    out = as_numpy(bn(maps, training=True))
    assert bn.moving_mean.shape == (4,)
    assert bn.moving_variance.shape == (4,)
    mean = maps.mean(axis=(0, 1, 2))  # over batch, height and width
    var = maps.var(axis=(0, 1, 2))
    expected = (maps - mean) / np.sqrt(var + bn.epsilon)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    # Statistics per (height, width) position, or over the whole batch, differ.
    assert not np.allclose(out, (maps - maps.mean()) / maps.std(), atol=1e-3)


@pytest.mark.claim("convolutional/bn-channels-first")
def test_bn_axis_1_for_channels_first(maps):
    last = as_numpy(keras.layers.BatchNormalization()(maps, training=True))
    first = keras.layers.BatchNormalization(axis=1)
    out = as_numpy(first(maps.transpose(0, 3, 1, 2), training=True))
    assert first.moving_mean.shape == (4,)
    np.testing.assert_allclose(out.transpose(0, 2, 3, 1), last, atol=1e-5)
    # The default axis=-1 on channels-first data normalises the width instead.
    wrong = keras.layers.BatchNormalization()
    wrong(maps.transpose(0, 3, 1, 2), training=True)
    assert wrong.moving_mean.shape == (8,)


@pytest.mark.claim("convolutional/bn-weights-per-channel")
def test_bn_after_conv_holds_four_numbers_per_channel():
    model = script("usual")["model"]
    conv = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    bn = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert all(layer.bias is None and len(layer.weights) == 1 for layer in conv)
    second = bn[1]
    assert conv[1].filters == 32
    assert [tuple(w.shape) for w in second.weights] == [(32,)] * 4
    assert sum(int(np.prod(w.shape)) for w in second.trainable_weights) == 64


@pytest.mark.claim("convolutional/spatial-whole-channels")
def test_spatial_dropout_zeroes_or_scales_whole_channels():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 1.5, size=(256, 8, 8, 16)).astype("float32")
    out = as_numpy(keras.layers.SpatialDropout2D(0.3, seed=1)(x, training=True))
    zero = (out == 0).all(axis=(1, 2))  # (example, channel) maps all zero
    kept = ~zero
    # Every other map is kept whole, every pixel scaled by 1 / (1 - rate).
    np.testing.assert_allclose(
        out.transpose(0, 3, 1, 2)[kept], x.transpose(0, 3, 1, 2)[kept] / 0.7, rtol=1e-6
    )
    fraction = float(zero.mean())
    assert abs(fraction - 0.3) < 4 * np.sqrt(0.3 * 0.7 / zero.size)
    record("convolutional", "spatial_zero_channels", fraction)


@pytest.mark.claim("convolutional/spatial-inference")
def test_spatial_dropout_has_no_weights_and_passes_through_at_inference(maps):
    layer = keras.layers.SpatialDropout2D(0.3)
    np.testing.assert_array_equal(as_numpy(layer(maps)), maps)
    np.testing.assert_array_equal(as_numpy(layer(maps, training=False)), maps)
    assert layer.weights == []


@pytest.mark.claim("convolutional/dropout-scattered")
def test_dropout_zeros_are_scattered_within_channels():
    x = np.ones((256, 8, 8, 16), dtype="float32")
    zeros = as_numpy(keras.layers.Dropout(0.3, seed=1)(x, training=True)) == 0
    whole = zeros.all(axis=(1, 2))
    partly = zeros.any(axis=(1, 2)) & ~whole
    assert not whole.any()
    assert abs(float(zeros.mean()) - 0.3) < 0.01
    record("convolutional", "dropout_partly_zero_channels", float(partly.mean()))


@pytest.mark.claim("convolutional/dropout-before-pool")
def test_dropout_before_max_pooling_zeroes_fewer(positive):
    pool = keras.layers.MaxPooling2D(2)
    drop = keras.layers.Dropout(0.5, seed=2)
    before = as_numpy(pool(drop(positive, training=True)))
    after = as_numpy(drop(pool(positive), training=True))
    zeros_before, zeros_after = float(np.mean(before == 0)), float(np.mean(after == 0))
    # A pooled value is zero only if all four of its inputs were dropped.
    assert abs(zeros_before - 0.5**4) < 0.01
    assert abs(zeros_after - 0.5) < 0.02
    record("convolutional", "zeros_dropout_then_pool", zeros_before)
    record("convolutional", "zeros_pool_then_dropout", zeros_after)


@pytest.mark.claim("convolutional/dropout-before-pool-inflates")
def test_dropout_before_max_pooling_raises_the_mean(positive):
    pool = keras.layers.MaxPooling2D(2)
    drop = keras.layers.Dropout(0.5, seed=2)
    plain = float(as_numpy(pool(positive)).mean())  # inference: no dropout
    before = float(as_numpy(pool(drop(positive, training=True))).mean()) / plain
    after = float(as_numpy(drop(pool(positive), training=True)).mean()) / plain
    assert before > 1.5
    assert abs(after - 1) < 0.02
    record("convolutional", "mean_ratio_dropout_then_pool", before)
    record("convolutional", "mean_ratio_pool_then_dropout", after)


def bn_with(gamma, channels=16):
    rng = np.random.default_rng(3)
    bn = keras.layers.BatchNormalization()
    bn.build((None, 8, 8, channels))
    beta = rng.normal(size=channels).astype("float32")
    mean = rng.normal(size=channels).astype("float32")
    variance = rng.uniform(0.5, 2.0, size=channels).astype("float32")
    bn.set_weights([gamma.astype("float32"), beta, mean, variance])
    return bn


@pytest.mark.claim("convolutional/bn-maxpool-commute")
def test_bn_and_max_pooling_commute_at_inference_with_positive_gamma():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(32, 8, 8, 16)).astype("float32")
    pool = keras.layers.MaxPooling2D(2)
    gamma = rng.uniform(0.5, 2.0, size=16)
    bn = bn_with(gamma)
    np.testing.assert_array_equal(as_numpy(pool(bn(x))), as_numpy(bn(pool(x))))
    # ReLU preserves order too: BN -> ReLU -> pool equals pool -> BN -> ReLU.
    relu = keras.layers.Activation("relu")
    np.testing.assert_array_equal(
        as_numpy(pool(relu(bn(x)))), as_numpy(relu(bn(pool(x))))
    )
    flipped = bn_with(-gamma)  # a negative gamma turns the max into a min
    assert not np.allclose(as_numpy(pool(flipped(x))), as_numpy(flipped(pool(x))))


@pytest.mark.claim("convolutional/bn-maxpool-training-differs")
def test_bn_and_max_pooling_differ_in_training_mode():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(32, 8, 8, 16)).astype("float32")
    pool = keras.layers.MaxPooling2D(2)
    bn = bn_with(rng.uniform(0.5, 2.0, size=16))
    first = as_numpy(pool(bn(x, training=True)))
    second = as_numpy(bn(pool(x), training=True))
    assert np.abs(first - second).max() > 0.5
    # After pooling, the batch mean is higher: maxima of four values.
    assert float(as_numpy(pool(x)).mean()) > float(x.mean()) + 0.5
    assert abs(float(as_numpy(pool(x)).var()) - float(x.var())) > 0.2


@pytest.mark.claim("convolutional/bn-after-pool-quarter")
def test_bn_after_pooling_sees_a_quarter_of_the_values():
    def bn_input(model):
        layers = model.layers
        index = [isinstance(layer, keras.layers.BatchNormalization) for layer in layers]
        second = [i for i, is_bn in enumerate(index) if is_bn][1]
        return tuple(layers[second - 1].output.shape[1:])

    assert bn_input(script("usual")["model"]) == (8, 8, 32)
    assert bn_input(script("bn_after_pool")["model"]) == (4, 4, 32)


@pytest.mark.claim("convolutional/dropout-after-gap")
def test_dropout_after_global_pooling_drops_channel_averages(positive):
    gap = keras.layers.GlobalAveragePooling2D()
    averages = as_numpy(gap(positive))  # (batch, channels)
    after = as_numpy(keras.layers.Dropout(0.3, seed=3)(averages, training=True))
    spatial = keras.layers.SpatialDropout2D(0.3, seed=3)
    before = as_numpy(gap(spatial(positive, training=True)))
    for out in (after, before):
        kept = out != 0
        # Each value is a channel's average, zeroed or scaled by 1 / (1 - rate).
        np.testing.assert_allclose(out[kept], averages[kept] / 0.7, rtol=1e-5)
        assert abs(float(np.mean(~kept)) - 0.3) < 0.03


@pytest.mark.claim("convolutional/one-seed")
def test_one_seed_per_placement():
    for name in ("usual", "spatial", "bn_after_pool"):
        namespace = script(name)
        record("convolutional", f"accuracy_{name}", namespace["test_accuracy"], 3)
        final = namespace["history"].history["loss"][-1]
        record("convolutional", f"final_loss_{name}", final, 2)
    spatial, usual = script("spatial"), script("usual")
    # With this seed, dropping whole maps of the first block slowed training.
    assert spatial["history"].history["loss"][-1] > usual["history"].history["loss"][-1]
    assert spatial["test_accuracy"] < usual["test_accuracy"]
