"""The claims of docs/batch-normalization.md, one test each."""

import json
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
# Two logical CPUs, for the claim that synchronized BatchNormalization uses
# the global batch: set when this module is collected, before TensorFlow
# runs its first operation in this process.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration()] * 2,
)
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


# Fine-tuning: snippets/batch-normalization/fine_tune.py and the trap it avoids.

FINE_TUNE = ROOT / "snippets/batch-normalization/fine_tune.py"


def fine_tune_setup():
    """The fine-tuning script's data, and a copy of its pretrained base (with
    the weights it has now: only the moving statistics matter here) inside a
    new model, called as keras.io's transfer-learning guide calls it."""
    script = docsite.run_snippet(FINE_TUNE)
    keras.utils.set_random_seed(0)
    base = keras.models.clone_model(script["base"])
    base.set_weights(script["base"].get_weights())
    inputs = keras.Input(shape=(64,))
    outputs = keras.layers.Dense(5)(base(inputs, training=False))
    model = keras.Model(inputs, outputs)
    return script, base, model


def moving_statistics(base):
    bn = next(
        la for la in base.layers if isinstance(la, keras.layers.BatchNormalization)
    )
    return [as_numpy(bn.moving_mean), as_numpy(bn.moving_variance)]


def fit_once(model, script, learning_rate=1e-4):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model.fit(script["x_new"], script["y_new"], epochs=1, verbose=0)


@pytest.mark.claim("batch-normalization/fine-tune-keeps-statistics")
def test_fine_tuning_recipe_keeps_the_moving_statistics():
    script = docsite.run_snippet(FINE_TUNE)
    base, before = script["base"], script["before"]
    after = {w.path: as_numpy(w) for w in base.weights}
    bn = base.get_layer("bn")
    for variable in (bn.moving_mean, bn.moving_variance, bn.gamma, bn.beta):
        np.testing.assert_array_equal(after[variable.path], before[variable.path])
    kernel = base.layers[0].kernel.path
    assert np.abs(after[kernel] - before[kernel]).max() > 1e-3  # it trained
    losses = script["history"].history["loss"]
    assert losses[-1] < 0.9 * losses[0]
    assert script["test_accuracy"] > script["head_accuracy"]
    record(PAGE, "fine_tune_head_accuracy", float(script["head_accuracy"]), digits=3)
    record(PAGE, "fine_tune_accuracy", float(script["test_accuracy"]), digits=3)


@pytest.mark.claim("batch-normalization/training-false-overridden-in-fit")
def test_training_false_does_not_keep_statistics_after_unfreezing():
    script, base, model = fine_tune_setup()
    pretrained = moving_statistics(base)
    base.trainable = False
    fit_once(model, script, 1e-2)  # frozen: the statistics stay
    for before, after in zip(pretrained, moving_statistics(base), strict=True):
        np.testing.assert_array_equal(before, after)
    base.trainable = True
    fit_once(model, script)
    changed = [
        not np.allclose(before, after, rtol=1e-3, atol=1e-4)
        for before, after in zip(pretrained, moving_statistics(base), strict=True)
    ]
    assert all(changed), (
        "fit no longer updates the moving statistics of a BatchNormalization "
        "layer inside a base called with training=False and then unfrozen: "
        "Keras now honours that training=False, so docs/batch-normalization.md "
        "(Fine-tuning) must be updated"
    )
    record(PAGE, "keras_version", keras.__version__)  # the version the page names
    # They moved towards the statistics of the new data.
    dense = base.layers[0]
    new = as_numpy(dense(script["x_new"].astype("float32")))
    after = moving_statistics(base)
    assert (
        np.abs(after[0] - new.mean(0)).sum() < np.abs(pretrained[0] - new.mean(0)).sum()
    )


@pytest.mark.claim("batch-normalization/trainable-recursive")
def test_trainable_on_a_model_sets_every_layer(x):
    _, base, _ = fine_tune_setup()
    for value in (False, True):
        base.trainable = value
        assert [layer.trainable for layer in base.layers] == [value] * 3
    bn = base.get_layer("bn")
    base.trainable = False
    rng = np.random.default_rng(0)
    features = rng.normal(3.0, 2.0, size=(32, 64)).astype("float32")
    np.testing.assert_allclose(
        as_numpy(bn(features, training=True)),
        as_numpy(bn(features, training=False)),
        atol=1e-6,
    )


@pytest.mark.claim("batch-normalization/trainable-takes-effect-at-compile")
def test_trainable_takes_effect_only_at_compile():
    script, base, model = fine_tune_setup()
    kernel = base.layers[0].kernel
    base.trainable = False
    fit_once(model, script)
    frozen = as_numpy(kernel)
    base.trainable = True
    model.fit(script["x_new"], script["y_new"], epochs=1, verbose=0)  # no compile
    np.testing.assert_array_equal(as_numpy(kernel), frozen)
    fit_once(model, script)  # compile, then fit
    assert np.abs(as_numpy(kernel) - frozen).max() > 1e-4
    # The other way round: frozen again without compiling, it still trains.
    trained = as_numpy(kernel)
    base.trainable = False
    model.fit(script["x_new"], script["y_new"], epochs=1, verbose=0)
    assert np.abs(as_numpy(kernel) - trained).max() > 1e-4


# The layer's arguments.


@pytest.mark.claim("batch-normalization/center-scale-remove-weights")
def test_center_and_scale_false_remove_beta_and_gamma(x):
    layer = bn_layer(center=False, scale=False)
    out = as_numpy(layer(x, training=True))
    assert layer.gamma is None and layer.beta is None
    assert [w.name for w in layer.weights] == ["moving_mean", "moving_variance"]
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + EPSILON)
    np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.claim("batch-normalization/scale-false-before-relu")
def test_scale_false_before_relu_loses_nothing(x):
    """ReLU(gamma z + beta) = gamma ReLU(z + beta / gamma) for gamma > 0: a
    layer with scale=False, beta / gamma as its beta, and the next Dense
    layer's kernel rows multiplied by gamma compute the same function."""
    rng = np.random.default_rng(1)
    gamma = rng.uniform(0.2, 3.0, 4).astype("float32")
    beta = rng.normal(size=4).astype("float32")
    kernel = rng.normal(size=(4, 3)).astype("float32")
    bias = rng.normal(size=3).astype("float32")

    def block(bn, kernel):
        dense = keras.layers.Dense(3)
        dense.build((None, 4))
        dense.set_weights([kernel, bias])
        return lambda v, training: dense(keras.ops.relu(bn(v, training=training)))

    scaled = bn_layer()
    scaled.build(x.shape)
    scaled.gamma.assign(gamma)
    scaled.beta.assign(beta)
    unscaled = bn_layer(scale=False)
    unscaled.build(x.shape)
    unscaled.beta.assign(beta / gamma)
    a, b = block(scaled, kernel), block(unscaled, gamma[:, None] * kernel)
    for training in (True, False):
        np.testing.assert_allclose(
            as_numpy(a(x, training)), as_numpy(b(x, training)), rtol=1e-4, atol=1e-4
        )
    # A negative gamma cannot move past the ReLU.
    z = np.linspace(-2, 2, 5, dtype="float32")
    assert not np.allclose(as_numpy(keras.ops.relu(-z)), -as_numpy(keras.ops.relu(z)))


@pytest.mark.claim("batch-normalization/synchronized-one-device")
def test_synchronized_on_one_device(x_train):
    def both(data):
        return [
            as_numpy(bn_layer(synchronized=s)(data, training=True))
            for s in (False, True)
        ]

    plain, synchronized = both(x_train)
    np.testing.assert_allclose(synchronized, plain, atol=1e-3)
    # One pass, E[x^2] - E[x]^2, loses the variance of a feature whose mean is
    # large against its spread.
    rng = np.random.default_rng(0)
    far = (1000 + rng.normal(0.0, 0.1, size=(256, 1))).astype("float32")
    plain, synchronized = both(far)
    assert abs(plain.std() - math.sqrt(0.01 / (0.01 + EPSILON))) < 0.02
    assert abs(synchronized.std() - plain.std()) > 0.3


@pytest.fixture(scope="module")
def synchronized_on_two_devices():
    """BatchNormalization's training-mode output on a batch of 8 split over
    the two logical CPUs set above, with and without synchronized=True."""
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    x[4:] += 10.0  # the second device's half has another mean
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(8)
    batch = next(iter(strategy.experimental_distribute_dataset(dataset)))
    run = {"x": x}
    for synchronized in (False, True):
        with strategy.scope():
            layer = keras.layers.BatchNormalization(synchronized=synchronized)
            layer.build((None, 3))
        result = strategy.run(layer, args=(batch,), kwargs={"training": True})
        parts = strategy.experimental_local_results(result)
        run[str(synchronized)] = np.concatenate([as_numpy(p) for p in parts])
    return run


@pytest.mark.claim("batch-normalization/synchronized-global-batch")
def test_synchronized_uses_the_global_batch(synchronized_on_two_devices):
    run = synchronized_on_two_devices
    x = run["x"]

    def standardise(part):
        return (part - part.mean(0)) / np.sqrt(part.var(0) + EPSILON)

    np.testing.assert_allclose(run["True"], standardise(x), atol=1e-4)
    halves = np.concatenate([standardise(x[:4]), standardise(x[4:])])
    np.testing.assert_allclose(run["False"], halves, atol=1e-4)


def renorm_layer(x, mean, std, **kwargs):
    layer = bn_layer(renorm=True, **kwargs)
    layer.build(x.shape)
    layer.renorm_mean.assign(np.asarray(mean, "float32"))
    layer.renorm_stddev.assign(np.asarray(std, "float32"))
    return layer


@pytest.mark.claim("batch-normalization/renorm-correction")
def test_renorm_corrects_with_r_and_d(x):
    mean, std = np.array([4.0, 5.0, 6.0, 3.0]), np.array([2.0, 3.0, 4.0, 1.5])
    layer = renorm_layer(x, mean, std)
    x = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        out = layer(x, training=True)
        total = tf.reduce_sum(out)
    batch_std = np.sqrt(as_numpy(x).var(0) + EPSILON)
    r, d = batch_std / std, (as_numpy(x).mean(0) - mean) / std
    batch_normalised = (as_numpy(x) - as_numpy(x).mean(0)) / batch_std
    np.testing.assert_allclose(as_numpy(out), batch_normalised * r + d, atol=1e-4)
    np.testing.assert_allclose(as_numpy(out), (as_numpy(x) - mean) / std, atol=1e-4)
    # The gradient goes through the batch statistics, r and d held constant:
    # the batch sum of a batch-normalised feature does not depend on x, so its
    # gradient is 0, where a normalisation by fixed statistics gives 1 / std.
    np.testing.assert_allclose(as_numpy(tape.gradient(total, x)), 0, atol=1e-4)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(layer(x, training=False))
    assert np.abs(as_numpy(tape.gradient(total, x))).min() > 0.2
    # The moving averages behind mu and sigma follow renorm_momentum.
    layer = renorm_layer(as_numpy(x), mean, std, renorm_momentum=0.5)
    layer(x, training=True)
    np.testing.assert_allclose(
        as_numpy(layer.renorm_mean), 0.5 * mean + 0.5 * as_numpy(x).mean(0), rtol=1e-5
    )
    np.testing.assert_allclose(
        as_numpy(layer.renorm_stddev), 0.5 * std + 0.5 * batch_std, rtol=1e-5
    )


@pytest.mark.claim("batch-normalization/renorm-unclipped-by-default")
def test_renorm_unclipped_by_default(x):
    layer = bn_layer(renorm=True)
    assert layer.renorm_clipping == {}
    out = as_numpy(layer(x, training=True))
    # mu = 0 and sigma = 1 at the start, r = 3 and d = 5 here: unclipped, the
    # output is the input itself (gamma = 1, beta = 0).
    np.testing.assert_allclose(out, x, rtol=1e-5, atol=1e-5)


@pytest.mark.claim("batch-normalization/renorm-clipping-fixed")
def test_renorm_clipping_is_fixed(x):
    plain = bn_layer()
    clipped = bn_layer(renorm=True, renorm_clipping={"rmin": 1, "rmax": 1, "dmax": 0})
    rng = np.random.default_rng(3)
    for _ in range(50):  # the limits do not relax as training goes on
        batch = (rng.normal(size=(16, 4)) * 3 + 5).astype("float32")
        np.testing.assert_allclose(
            as_numpy(clipped(batch, training=True)),
            as_numpy(plain(batch, training=True)),
            atol=1e-4,
        )
    assert clipped.renorm_clipping == {"rmin": 1, "rmax": 1, "dmax": 0}
    # With looser limits, r and d are clipped to them.
    layer = renorm_layer(
        x, np.zeros(4), np.ones(4), renorm_clipping={"rmax": 2, "dmax": 1}
    )
    out = as_numpy(layer(x, training=True))
    batch_std = np.sqrt(x.var(0) + EPSILON)
    r = np.minimum(batch_std, 2.0)
    d = np.clip(x.mean(0), -1.0, 1.0)
    np.testing.assert_allclose(out, (x - x.mean(0)) / batch_std * r + d, atol=1e-4)


# Training and evaluation; the moving statistics.

ON_INPUTS = ROOT / "snippets/batch-normalization/on_inputs.py"


def fresh_on_inputs_model():
    """The first script's model, untrained, compiled as the script compiles it."""
    script = docsite.run_snippet(ON_INPUTS)
    keras.utils.set_random_seed(0)
    model = keras.models.clone_model(script["model"])
    model.compile(
        optimizer="adam",
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)],
    )
    return script, model


@pytest.mark.claim("batch-normalization/fit-updates-evaluate-does-not")
def test_fit_updates_once_per_batch_and_evaluate_does_not():
    script, model = fresh_on_inputs_model()
    x_train, y_train = script["x_train"].astype("float32"), script["y_train"]
    bn = model.layers[0]
    model.fit(x_train, y_train, epochs=1, batch_size=16, shuffle=False, verbose=0)
    # BatchNormalization comes first, so its input is the raw batch: replay
    # one update per batch.
    moving_mean, moving_variance = np.zeros(30), np.ones(30)
    for start in range(0, len(x_train), 16):
        batch = x_train[start : start + 16].astype("float64")
        moving_mean = 0.99 * moving_mean + 0.01 * batch.mean(0)
        moving_variance = 0.99 * moving_variance + 0.01 * batch.var(0)
    np.testing.assert_allclose(as_numpy(bn.moving_mean), moving_mean, rtol=1e-4)
    np.testing.assert_allclose(as_numpy(bn.moving_variance), moving_variance, rtol=1e-3)
    # evaluate and predict run it in inference mode and change nothing.
    statistics = [as_numpy(bn.moving_mean), as_numpy(bn.moving_variance)]
    model.evaluate(x_train, y_train, verbose=0)
    predicted = model.predict(x_train, verbose=0)
    for before, variable in zip(
        statistics, (bn.moving_mean, bn.moving_variance), strict=True
    ):
        np.testing.assert_array_equal(before, as_numpy(variable))
    np.testing.assert_allclose(
        predicted, as_numpy(model(x_train, training=False)), rtol=1e-4, atol=1e-4
    )
    assert not np.allclose(predicted, as_numpy(model(x_train, training=True)), atol=0.1)


@pytest.mark.claim("batch-normalization/too-few-updates")
def test_too_few_updates_evaluate_far_worse():
    script, model = fresh_on_inputs_model()
    x_train, y_train = script["x_train"], script["y_train"]
    history = model.fit(x_train, y_train, epochs=1, batch_size=16, verbose=0)
    train_loss = history.history["loss"][-1]
    train_accuracy = history.history["binary_accuracy"][-1]
    loss, accuracy = model.evaluate(x_train, y_train, verbose=0)
    assert int(model.optimizer.iterations) == math.ceil(len(x_train) / 16)
    assert loss > 10 * train_loss and accuracy < train_accuracy - 0.3
    record(PAGE, "few_updates", int(model.optimizer.iterations))
    record(PAGE, "few_updates_train_loss", float(train_loss), digits=2)
    record(PAGE, "few_updates_train_accuracy", float(train_accuracy), digits=3)
    record(PAGE, "few_updates_eval_loss", float(loss), digits=1)
    record(PAGE, "few_updates_eval_accuracy", float(accuracy), digits=3)


@pytest.mark.claim("batch-normalization/small-momentum-noisier")
def test_smaller_momentum_forgets_faster_but_is_noisier():
    assert updates_to_forget(0.9, 0.01) < updates_to_forget(0.99, 0.01) / 10
    batches = tf.constant(
        np.random.default_rng(0).normal(size=(800, 16, 1)), dtype="float32"
    )
    spread = {}
    for momentum in (0.99, 0.9):
        layer = bn_layer(momentum=momentum)
        layer.build((16, 1))

        @tf.function
        def means(layer=layer):
            values = tf.TensorArray("float32", size=800)
            for i in tf.range(800):
                layer(batches[i], training=True)
                values = values.write(i, layer.moving_mean[0])
            return values.stack()

        # The moving mean of batches whose true mean is 0, after it settled.
        spread[momentum] = float(np.std(as_numpy(means())[400:]))
    assert spread[0.9] > 2 * spread[0.99]


# Placements.


def results_cell(variant, dataset="breast_cancer_raw", experiment="placements"):
    results = json.loads((ROOT / "docs/data/results.json").read_text())
    return results["summary"][experiment][dataset][variant]["val_accuracy"]


@pytest.mark.claim("batch-normalization/first-layer-like-scaler")
def test_first_layer_did_about_what_a_scaler_did():
    first = results_cell("bn_inputs")
    scaler = results_cell("baseline", "breast_cancer_scaled", "scaling")
    raw = results_cell("baseline")
    assert abs(first["mean"] - scaler["mean"]) < max(first["std"], scaler["std"])
    assert first["mean"] > raw["mean"] + raw["std"]


@pytest.mark.claim("batch-normalization/after-activation-no-gain")
def test_after_activation_no_better_than_without_on_raw_features():
    after, baseline = results_cell("bn_after_activation"), results_cell("baseline")
    first = results_cell("bn_inputs")
    assert after["mean"] <= baseline["mean"]
    assert abs(after["mean"] - baseline["mean"]) < max(after["std"], baseline["std"])
    assert first["mean"] > max(after["mean"], baseline["mean"])


@pytest.mark.claim("batch-normalization/before-or-after-activation-measured")
def test_before_or_after_the_activation_as_measured():
    results = json.loads((ROOT / "docs/data/results.json").read_text())
    seeds = len(results["config"]["seeds"])
    placements, differences = results["summary"]["placements"], results["differences"]

    def orders(dataset, score):
        cells = placements[dataset]
        return cells["bn_before_activation"][score], cells["bn_after_activation"][score]

    # Breast cancer, unscaled: the interval includes zero; before the
    # activation, the accuracy varied far less from seed to seed.
    before, after = orders("breast_cancer_raw", "val_accuracy")
    difference = differences["cancer_bn_before_vs_after_activation"]
    assert difference["n"] == seeds and difference["low"] < 0 < difference["high"]
    assert before["std"] < after["std"] / 4
    # Diabetes: lower after the activation in every seed, by less than the
    # spread between seeds.
    before, after = orders("diabetes", "val_loss")
    difference = differences["diabetes_bn_before_vs_after_activation"]
    assert difference["n"] == seeds and difference["below"] == 0
    assert difference["low"] > 0
    assert difference["mean"] < min(before["std"], after["std"])


@pytest.mark.claim("batch-normalization/after-activation-centred")
def test_after_activation_outputs_centred_on_beta():
    script = docsite.run_snippet(
        ROOT / "snippets/batch-normalization/after_activation.py"
    )
    dense, bn = script["model"].layers[:2]
    assert isinstance(bn, keras.layers.BatchNormalization)
    relu = as_numpy(dense(script["x_train"].astype("float32")))
    out = as_numpy(bn(relu, training=True))
    assert relu.min() >= 0 and out.min() < 0
    np.testing.assert_allclose(out.mean(0), as_numpy(bn.beta), atol=1e-4)


@pytest.mark.claim("batch-normalization/axis-channels-first")
def test_axis_one_for_channels_first():
    images = np.random.default_rng(0).normal(2.0, 3.0, size=(8, 5, 5, 3))
    images = images.astype("float32")
    last = as_numpy(bn_layer()(images, training=True))
    layer = bn_layer(axis=1)
    first = as_numpy(layer(np.transpose(images, (0, 3, 1, 2)), training=True))
    assert layer.moving_mean.shape == (3,)
    np.testing.assert_allclose(first, np.transpose(last, (0, 3, 1, 2)), atol=1e-5)


@pytest.mark.claim("batch-normalization/layer-group-norm-no-batch")
def test_layer_and_group_normalization_ignore_the_batch(x):
    for layer in (
        keras.layers.LayerNormalization(),
        keras.layers.GroupNormalization(groups=2),
    ):
        alone = as_numpy(layer(x[:1], training=True))
        in_batch = as_numpy(layer(x[:64], training=True))[:1]
        np.testing.assert_allclose(alone, in_batch, atol=1e-6)
        assert len(layer.non_trainable_weights) == 0  # no moving statistics


@pytest.mark.claim("batch-normalization/one-update-on-three-and-seven")
def test_one_update_on_three_and_seven():
    """A new layer, one training-mode call on [[3], [7]]: batch mean 5, biased
    variance 4."""
    layer = keras.layers.BatchNormalization()
    layer(np.array([[3.0], [7.0]], "float32"), training=True)
    np.testing.assert_allclose(as_numpy(layer.moving_mean), [0.05], rtol=1e-6)
    np.testing.assert_allclose(as_numpy(layer.moving_variance), [1.03], rtol=1e-6)


@pytest.mark.claim("batch-normalization/batch-of-one-new-layer")
def test_batch_of_one_on_a_new_layer():
    layer = keras.layers.BatchNormalization()
    out = as_numpy(layer(np.array([[3.0, -1.0]], "float32"), training=True))
    np.testing.assert_array_equal(out, [[0.0, 0.0]])


# The explorable of "The moving statistics need time": the settings whose
# moving statistics it is checked against, (momentum, batch size, updates).
EXPLORABLE_CHECKS = [(0.9, 8, 30), (0.99, 32, 14), (0.999, 64, 7)]


@pytest.mark.claim("batch-normalization/explorable-moving-statistics")
def test_explorable_moving_statistics():
    """Wine's proline, shuffled once, in batches taken in that order epoch
    after epoch (the last batch of an epoch is smaller): a new layer's moving
    statistics after each setting's updates, and the first wine's output in
    training mode (with its first batch) and in inference mode (with the
    moving statistics)."""
    from sklearn.datasets import load_wine

    proline = load_wine().data[:, 12]
    proline = proline[np.random.default_rng(0).permutation(len(proline))]
    column = proline.astype("float32")[:, None]

    def sig(value):  # six significant digits: float32 keeps about seven
        return float(f"{float(value):.6g}")

    checks = []
    for momentum, size, updates in EXPLORABLE_CHECKS:
        batches = [column[i : i + size] for i in range(0, len(column), size)]
        layer = keras.layers.BatchNormalization(momentum=momentum)
        for n in range(updates):
            out = layer(batches[n % len(batches)], training=True)
            if n == 0:
                training_output = as_numpy(out)[0, 0]
        mean, variance = (
            as_numpy(layer.moving_mean)[0],
            as_numpy(layer.moving_variance)[0],
        )
        inference_output = as_numpy(layer(column[:1]))[0, 0]
        # The same update in float64: moving * momentum + batch * (1 - momentum),
        # with the biased variance of each batch.
        m, v = 0.0, 1.0
        for n in range(updates):
            batch = batches[n % len(batches)].astype("float64")
            m = m * momentum + batch.mean() * (1 - momentum)
            v = v * momentum + batch.var() * (1 - momentum)
        np.testing.assert_allclose([mean, variance], [m, v], rtol=1e-5)
        first = batches[0].astype("float64")
        expected = (first[0, 0] - first.mean()) / math.sqrt(first.var() + EPSILON)
        np.testing.assert_allclose(training_output, expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(
            inference_output, (column[0, 0] - m) / math.sqrt(v + EPSILON), rtol=1e-4
        )
        checks.append(
            {
                "momentum": momentum,
                "batch_size": size,
                "updates": updates,
                "moving_mean": sig(mean),
                "moving_variance": sig(variance),
                "training_output": sig(training_output),
                "inference_output": sig(inference_output),
            }
        )
    record(
        PAGE,
        "explorable_moving_statistics",
        {"proline": [int(p) for p in proline], "checks": checks},
    )
