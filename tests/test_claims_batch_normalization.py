"""The claims of docs/batch-normalization.md, one test each."""

import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import docsite
from docsite import ROOT, record
from docsite.numbers import updates_to_forget

PAGE = "batch-normalization"
EPSILON = 1e-3  # Keras's default


def as_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


@pytest.fixture
def x():
    """The page's example: four features with mean 5 and std 3."""
    rng = np.random.default_rng(0)
    return rng.normal(loc=5.0, scale=3.0, size=(256, 4)).astype("float32")


@pytest.fixture
def x_train():
    """The scripts' training split: the raw breast cancer features."""
    script = docsite.run_snippet(ROOT / "snippets/batch-normalization/on_inputs.py")
    return script["x_train"].astype("float32")


def bn_layer(**kwargs):
    keras.utils.set_random_seed(0)
    return keras.layers.BatchNormalization(**kwargs)


@pytest.mark.claim("batch-normalization/parameter-count")
def test_parameter_count():
    script = docsite.run_snippet(ROOT / "snippets/batch-normalization/on_inputs.py")
    bn = script["model"].layers[0]
    assert isinstance(bn, keras.layers.BatchNormalization)
    features = bn.gamma.shape[0]
    trainable = sum(int(np.prod(w.shape)) for w in bn.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in bn.non_trainable_weights)
    assert (features, trainable, frozen) == (30, 60, 60)
    assert bn.count_params() == 4 * features
    record(PAGE, "params_total", bn.count_params())
    record(PAGE, "params_trainable", trainable)
    record(PAGE, "params_non_trainable", frozen)


@pytest.mark.claim("batch-normalization/biased-variance")
def test_biased_variance(x):
    out = as_numpy(bn_layer()(x, training=True))
    for ddof, matches in ((0, True), (1, False)):
        expected = (x - x.mean(0)) / np.sqrt(x.var(0, ddof=ddof) + EPSILON)
        assert np.allclose(out, expected, atol=1e-5) == matches


@pytest.mark.claim("batch-normalization/training-output-standardised")
def test_training_output_standardised(x):
    out = as_numpy(bn_layer()(x, training=True))
    mean_max_abs = float(np.abs(out.mean(0)).max())
    std = out.std(0)
    assert mean_max_abs < 1e-5
    assert ((std < 1) & (std > 0.9999)).all()  # just under 1: epsilon
    record(PAGE, "training_mean_max_abs", mean_max_abs, digits=6)
    record(PAGE, "training_std_min", float(std.min()), digits=6)
    record(PAGE, "training_std_max", float(std.max()), digits=6)
    # With learned gamma and beta, the output has mean beta and std ~ gamma.
    layer = bn_layer()
    layer.build(x.shape)
    layer.gamma.assign(np.full(4, 2.0, "float32"))
    layer.beta.assign(np.full(4, -1.0, "float32"))
    out = as_numpy(layer(x, training=True))
    np.testing.assert_allclose(out.mean(0), -1.0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 2.0, rtol=1e-4)


@pytest.mark.claim("batch-normalization/epsilon-shrinks-small-variance")
def test_epsilon_shrinks_features_of_small_variance():
    rng = np.random.default_rng(0)
    stds = np.array([3.0, 0.1, 0.03, 0.01], "float32")  # variances 9 to 1e-4
    x = (rng.normal(size=(4096, 4)) * stds).astype("float32")
    out = as_numpy(bn_layer()(x, training=True)).std(0)
    variance = x.var(0)
    np.testing.assert_allclose(out, np.sqrt(variance / (variance + EPSILON)), rtol=1e-3)
    assert out[0] > 0.9999 and out[3] < 0.31  # just under 1; well under it


@pytest.mark.claim("batch-normalization/epsilon-on-raw-features")
def test_epsilon_on_the_raw_breast_cancer_features(x_train):
    below = int((x_train.var(0) < EPSILON).sum())
    smallest = float(as_numpy(bn_layer()(x_train, training=True)).std(0).min())
    small_epsilon = as_numpy(bn_layer(epsilon=1e-6)(x_train, training=True)).std(0)
    assert below > 0 and smallest < 0.5
    assert float(small_epsilon.min()) > 0.9
    record(PAGE, "raw_features_below_epsilon", below)
    record(PAGE, "raw_smallest_output_std", smallest, digits=3)
    record(
        PAGE,
        "raw_smallest_output_std_small_epsilon",
        float(small_epsilon.min()),
        digits=3,
    )


@pytest.mark.claim("batch-normalization/inference-uses-moving")
def test_inference_uses_moving_statistics(x):
    layer = bn_layer()
    layer.build(x.shape)
    layer.moving_mean.assign(np.array([1, 2, 3, 4], "float32"))
    layer.moving_variance.assign(np.array([4, 9, 16, 25], "float32"))
    out = as_numpy(layer(x))
    expected = (x - [1, 2, 3, 4]) / np.sqrt(np.array([4, 9, 16, 25]) + EPSILON)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(as_numpy(layer.moving_mean), [1, 2, 3, 4])


@pytest.mark.claim("batch-normalization/moving-mean-one-update")
def test_moving_statistics_after_one_update(x):
    layer = bn_layer()
    layer(x, training=True)
    np.testing.assert_allclose(as_numpy(layer.moving_mean), 0.01 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(
        as_numpy(layer.moving_variance), 0.99 + 0.01 * x.var(0), rtol=1e-5
    )


@pytest.mark.claim("batch-normalization/updates-to-forget")
def test_updates_to_forget():
    n = updates_to_forget(0.99, 0.01)
    assert 0.99**n < 0.01 <= 0.99 ** (n - 1)
    # The real layer agrees: feed batches whose mean is 100, one training-mode
    # call per update, in a compiled loop (hundreds of eager calls are slow).
    layer = bn_layer()
    batch = tf.fill((4, 1), 100.0)
    layer.build(batch.shape)

    @tf.function
    def update(times):
        for _ in tf.range(times):
            layer(batch, training=True)

    update(tf.constant(n - 1))
    assert 1 - float(as_numpy(layer.moving_mean)[0]) / 100 >= 0.01 - 1e-4
    update(tf.constant(1))
    assert 1 - float(as_numpy(layer.moving_mean)[0]) / 100 < 0.01
    # The numbers the page derives from the scripts' training run: the batch
    # size their `fit` call passes, and the updates that it made.
    path = ROOT / "snippets/batch-normalization/on_inputs.py"
    script = docsite.run_snippet(path)
    batch_size = int(re.search(r"\.fit\(.*batch_size=(\d+)", path.read_text())[1])
    examples, epochs = len(script["x_train"]), script["history"].params["epochs"]
    updates = int(script["model"].optimizer.iterations)
    assert updates == epochs * math.ceil(examples / batch_size)
    record(PAGE, "train_examples", examples)
    record(PAGE, "train_epochs", epochs)
    record(PAGE, "train_batch_size", batch_size)
    record(PAGE, "train_updates", updates)


@pytest.mark.claim("batch-normalization/normalization-layer-exact")
def test_normalization_layer_exact(x_train):
    scaler = keras.layers.Normalization()
    scaler.adapt(x_train)
    out = as_numpy(scaler(x_train))
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-4)
    assert x_train.var(0).max() > 1e5  # "in the hundreds of thousands"


@pytest.mark.claim("batch-normalization/normalization-adapts-in-batches")
def test_normalization_adapts_batch_by_batch(x_train):
    streamed = keras.layers.Normalization()
    streamed.adapt(tf.data.Dataset.from_tensor_slices(x_train).batch(50))
    out = as_numpy(streamed(x_train))
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-4)


@pytest.mark.claim("batch-normalization/bias-cancelled")
def test_bias_cancelled_by_batch_normalization():
    keras.utils.set_random_seed(0)
    x = tf.constant(np.random.default_rng(0).normal(size=(32, 5)), dtype="float32")
    dense = keras.layers.Dense(8)
    bn = keras.layers.BatchNormalization()
    dense.build(x.shape)
    dense.bias.assign(np.linspace(-3, 3, 8).astype("float32"))
    with tf.GradientTape() as tape:
        out = bn(dense(x), training=True)
        loss = tf.reduce_sum(out**2 * np.arange(8, dtype="float32"))
    gradient, kernel_gradient = tape.gradient(loss, [dense.bias, dense.kernel])
    # Zero up to float32 rounding: thousands of times smaller than the
    # kernel's gradient.
    scale = float(np.abs(as_numpy(kernel_gradient)).max())
    assert scale > 0.1
    assert float(np.abs(as_numpy(gradient)).max()) < 1e-3 * scale
    dense.bias.assign(np.zeros(8, "float32"))
    fresh = keras.layers.BatchNormalization()
    np.testing.assert_allclose(
        as_numpy(fresh(dense(x), training=True)), as_numpy(out), atol=1e-4
    )


@pytest.mark.claim("batch-normalization/axis-channels-last")
def test_axis_channels_last():
    images = np.random.default_rng(0).normal(2.0, 3.0, size=(8, 5, 5, 3))
    layer = bn_layer()
    out = as_numpy(layer(images.astype("float32"), training=True))
    assert layer.moving_mean.shape == (3,)
    assert layer.count_params() == 12
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-3)


@pytest.mark.claim("batch-normalization/frozen-runs-inference")
def test_frozen_layer_runs_in_inference_mode(x):
    rng = np.random.default_rng(15)
    weights = [
        rng.uniform(0.5, 2.0, 4).astype("float32"),  # gamma
        rng.normal(size=4).astype("float32"),  # beta
        rng.normal(size=4).astype("float32"),  # moving_mean
        rng.uniform(0.5, 2.0, 4).astype("float32"),  # moving_variance
    ]
    layer = bn_layer(trainable=False)
    layer.build(x.shape)
    layer.set_weights(weights)
    gamma, beta, moving_mean, moving_variance = weights
    inference = gamma * (x - moving_mean) / np.sqrt(moving_variance + EPSILON) + beta
    np.testing.assert_allclose(
        as_numpy(layer(x, training=True)), inference, rtol=1e-5, atol=1e-5
    )
    for before, after in zip(weights, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    # Inside fit too, with the attribute set on a model's layer: neither gamma
    # and beta nor the moving statistics move.
    bn = bn_layer()
    model = keras.Sequential([keras.Input(shape=(4,)), bn, keras.layers.Dense(1)])
    bn.set_weights(weights)
    bn.trainable = False
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x.sum(1), epochs=2, verbose=0)
    for before, after in zip(weights, bn.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.claim("batch-normalization/batch-of-one")
def test_batch_of_one_outputs_beta(x):
    layer = bn_layer()
    layer.build(x.shape)
    layer.beta.assign(np.array([0.5, -1, 2, 0], "float32"))
    np.testing.assert_allclose(
        as_numpy(layer(x[:1], training=True)), [[0.5, -1, 2, 0]], atol=1e-6
    )
    # One image: the statistics also run over its pixels, which stay apart.
    image = np.random.default_rng(0).normal(size=(1, 5, 5, 3)).astype("float32")
    out = as_numpy(bn_layer()(image, training=True))
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=0.01)


@pytest.mark.claim("batch-normalization/batch-of-two")
def test_batch_of_two_gives_plus_minus_one(x):
    out = as_numpy(bn_layer()(x[:2], training=True))
    np.testing.assert_allclose(np.abs(out), 1, atol=0.01)
    np.testing.assert_array_equal(np.sign(out[0]), -np.sign(out[1]))
    # Exactly +-d / sqrt(d^2 + 4 epsilon): far from 1 when d is below 2
    # sqrt(epsilon), about 0.063.
    pairs = np.array([[0.0, 0.0, 0.0], [3.0, 0.1, 0.02]], "float32")
    d = pairs[1] - pairs[0]
    out = as_numpy(bn_layer()(pairs, training=True))
    np.testing.assert_allclose(out[1], d / np.sqrt(d**2 + 4 * EPSILON), rtol=1e-3)
    assert out[1, 2] < 0.5


@pytest.mark.claim("batch-normalization/batch-size-inference")
def test_batch_size_only_matters_in_training_mode():
    script = docsite.run_snippet(ROOT / "snippets/batch-normalization/on_inputs.py")
    model, x_test = script["model"], script["x_test"]
    one = model.predict(x_test, batch_size=1, verbose=0)
    many = model.predict(x_test, batch_size=64, verbose=0)
    np.testing.assert_allclose(one, many, rtol=1e-4, atol=1e-4)
    # Training mode, on a clone so that the snippet's model stays untouched.
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    alone = as_numpy(clone(x_test[:8], training=True))[0]
    mixed = as_numpy(clone(x_test[[0, *range(50, 57)]], training=True))[0]
    assert not np.allclose(alone, mixed, atol=1e-3)
