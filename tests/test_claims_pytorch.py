"""Claims of docs/pytorch.md about Keras. (Its statements about PyTorch are
cited from PyTorch's documentation: PyTorch is not a dependency.)

The PyTorch formulas used below are the documented ones, written in NumPy.
"""

import inspect

import keras
import numpy as np
import pytest

import docsite

PAGE = "pytorch"
SNIPPET = docsite.ROOT / "snippets" / PAGE / "convert_batchnorm.py"
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
BN_DEFAULTS = inspect.signature(keras.layers.BatchNormalization).parameters


def numpy(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(tensor)


def batch(rng, shape) -> np.ndarray:
    return rng.normal(loc=5.0, scale=3.0, size=shape).astype("float32")


def moving_statistics(layer) -> tuple[np.ndarray, np.ndarray]:
    _, _, moving_mean, moving_variance = layer.get_weights()
    return moving_mean, moving_variance


def torch_running_update(running, batch_statistic, momentum):
    """PyTorch's documented rule: (1 - momentum) * old + momentum * new."""
    return (1 - momentum) * running + momentum * batch_statistic


@pytest.mark.claim("pytorch/keras-momentum-default")
def test_keras_momentum_default():
    assert BN_DEFAULTS["momentum"].default == 0.99
    assert keras.layers.BatchNormalization().momentum == 0.99


@pytest.mark.claim("pytorch/keras-epsilon-default")
def test_keras_epsilon_default():
    assert BN_DEFAULTS["epsilon"].default == 1e-3
    assert keras.layers.BatchNormalization().epsilon == 1e-3


@pytest.mark.claim("pytorch/keras-momentum-weighs-old")
def test_keras_momentum_is_the_weight_of_the_old_value():
    rng = np.random.default_rng(10)
    old = np.array([10.0, -10.0, 3.0], "float32")
    layer = keras.layers.BatchNormalization()  # momentum 0.99
    layer.build((None, 3))
    layer.set_weights([np.ones(3), np.zeros(3), old, np.ones(3)])
    x = batch(rng, (64, 3))
    layer(x, training=True)
    moving_mean, _ = moving_statistics(layer)
    np.testing.assert_allclose(
        moving_mean, 0.99 * old + 0.01 * x.mean(axis=0), **TOLERANCE
    )


@pytest.mark.claim("pytorch/momentum-conversion")
def test_keras_momentum_is_one_minus_pytorch_momentum():
    rng = np.random.default_rng(11)
    for torch_momentum in (0.1, 0.01, 0.5):
        layer = keras.layers.BatchNormalization(momentum=1 - torch_momentum)
        running_mean = np.zeros(3, "float32")
        for _ in range(3):
            x = batch(rng, (32, 3))
            layer(x, training=True)
            running_mean = torch_running_update(
                running_mean, x.mean(axis=0), torch_momentum
            )
        np.testing.assert_allclose(
            moving_statistics(layer)[0], running_mean, **TOLERANCE
        )


@pytest.mark.claim("pytorch/keras-biased-moving-variance")
def test_keras_stores_the_biased_batch_variance():
    m = 8  # a small batch, where m / (m - 1) is far from 1
    x = batch(np.random.default_rng(12), (m, 3))
    # Momentum 0 (PyTorch momentum 1): the moving variance becomes the
    # batch variance that the layer stores.
    layer = keras.layers.BatchNormalization(momentum=0.0)
    layer(x, training=True)
    _, moving_variance = moving_statistics(layer)
    np.testing.assert_allclose(moving_variance, x.var(axis=0), **TOLERANCE)
    # PyTorch would store the unbiased variance: m / (m - 1) times more.
    torch_running_var = torch_running_update(1.0, x.var(axis=0, ddof=1), 1.0)
    np.testing.assert_allclose(
        torch_running_var / moving_variance, m / (m - 1), **TOLERANCE
    )
    docsite.record(PAGE, "unbiased_factor_m64", round(64 / 63, 4))


@pytest.mark.claim("pytorch/keras-biased-normalization")
def test_keras_training_mode_is_pytorch_training_formula():
    x = batch(np.random.default_rng(17), (8, 3))
    # PyTorch's documented training-mode output: biased variance, its eps.
    torch_train = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=0) + 1e-5)
    layer = keras.layers.BatchNormalization(epsilon=1e-5)
    np.testing.assert_allclose(numpy(layer(x, training=True)), torch_train, **TOLERANCE)


@pytest.mark.claim("pytorch/keras-any-rank")
def test_keras_batch_norm_takes_any_rank():
    rng = np.random.default_rng(18)
    for shape in [(16, 3), (8, 5, 3), (4, 5, 5, 3), (2, 4, 4, 4, 3)]:
        x = batch(rng, shape)
        layer = keras.layers.BatchNormalization(epsilon=0.0)
        y = numpy(layer(x, training=True))
        assert [w.shape for w in layer.get_weights()] == [(3,)] * 4
        axes = tuple(range(len(shape) - 1))
        np.testing.assert_allclose(y.mean(axis=axes), 0.0, atol=1e-5)
        np.testing.assert_allclose(y.std(axis=axes), 1.0, atol=1e-4)


@pytest.mark.claim("pytorch/keras-initial-values")
def test_keras_initial_weights():
    layer = keras.layers.BatchNormalization()
    layer.build((None, 5))
    gamma, beta, moving_mean, moving_variance = layer.get_weights()
    np.testing.assert_array_equal(gamma, np.ones(5))
    np.testing.assert_array_equal(beta, np.zeros(5))
    np.testing.assert_array_equal(moving_mean, np.zeros(5))
    np.testing.assert_array_equal(moving_variance, np.ones(5))


@pytest.mark.claim("pytorch/keras-channels-last")
def test_keras_normalizes_the_last_axis_by_default():
    assert BN_DEFAULTS["axis"].default == -1
    rng = np.random.default_rng(13)
    x_nhwc = batch(rng, (4, 6, 6, 3))
    channels_last = keras.layers.BatchNormalization()
    y = numpy(channels_last(x_nhwc, training=True))
    assert [w.shape for w in channels_last.get_weights()] == [(3,)] * 4
    # The same batch in PyTorch's layout needs axis=1.
    x_nchw = np.transpose(x_nhwc, (0, 3, 1, 2))
    channels_first = keras.layers.BatchNormalization(axis=1)
    y_nchw = numpy(channels_first(x_nchw, training=True))
    np.testing.assert_allclose(np.transpose(y_nchw, (0, 2, 3, 1)), y, **TOLERANCE)


@pytest.mark.claim("pytorch/keras-rate-required")
def test_keras_dropout_rate_has_no_default():
    rate = inspect.signature(keras.layers.Dropout).parameters["rate"]
    assert rate.default is inspect.Parameter.empty
    with pytest.raises(TypeError, match="rate"):
        keras.layers.Dropout()


@pytest.mark.claim("pytorch/keras-rate-drop-fraction")
def test_keras_rate_is_the_fraction_dropped():
    x = np.ones((400, 250), "float32")
    for rate in (0.2, 0.8):
        band = 4 * np.sqrt(rate * (1 - rate) / x.size)
        out = numpy(keras.layers.Dropout(rate, seed=0)(x, training=True))
        assert abs(np.mean(out == 0) - rate) < band
        np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)
        # and at inference, the input comes back unchanged.
        np.testing.assert_array_equal(numpy(keras.layers.Dropout(rate)(x)), x)


@pytest.mark.claim("pytorch/keras-training-argument")
def test_fit_trains_and_predict_infers():
    rng = np.random.default_rng(14)
    x, y = batch(rng, (64, 3)), rng.normal(size=(64, 1)).astype("float32")
    bn = keras.layers.BatchNormalization()
    model = keras.Sequential([keras.Input(shape=(3,)), bn, keras.layers.Dense(1)])
    # A plain call is inference: the moving statistics are used, not updated.
    np.testing.assert_array_equal(numpy(bn(x)), numpy(bn(x, training=False)))
    np.testing.assert_array_equal(numpy(model(x)), numpy(model(x, training=False)))
    np.testing.assert_array_equal(moving_statistics(bn)[0], np.zeros(3))
    # fit() runs training mode: two batches, two updates.
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    after_first = 0.99 * 0.0 + 0.01 * x[:32].mean(axis=0)
    expected = 0.99 * after_first + 0.01 * x[32:].mean(axis=0)
    after_fit = moving_statistics(bn)
    np.testing.assert_allclose(after_fit[0], expected, **TOLERANCE)
    # predict() and evaluate() run inference mode: the output of
    # training=False, and no update.
    np.testing.assert_allclose(
        model.predict(x, verbose=0), numpy(model(x, training=False)), **TOLERANCE
    )
    model.evaluate(x, y, verbose=0)
    for before, after in zip(after_fit, moving_statistics(bn), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.claim("pytorch/keras-weight-order")
def test_keras_weight_names_and_order():
    layer = keras.layers.BatchNormalization()
    layer.build((None, 2))
    assert [w.name for w in layer.weights] == [
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
    ]
    weights = [np.full(2, value, "float32") for value in (2.0, 3.0, 4.0, 5.0)]
    layer.set_weights(weights)
    assert [float(w[0]) for w in layer.get_weights()] == [2.0, 3.0, 4.0, 5.0]
    np.testing.assert_array_equal(layer.gamma.numpy(), weights[0])
    np.testing.assert_array_equal(layer.moving_variance.numpy(), weights[3])
    # Without gamma and beta (PyTorch's affine=False), two arrays remain.
    bare = keras.layers.BatchNormalization(center=False, scale=False)
    bare.build((None, 2))
    assert [w.name for w in bare.weights] == ["moving_mean", "moving_variance"]


@pytest.mark.claim("pytorch/port-matches")
def test_ported_layer_computes_pytorch_eval_formula():
    script = docsite.run_snippet(SNIPPET)
    layer = script["batch_norm_from_torch"](script["state"])
    assert layer.momentum == pytest.approx(0.9)
    assert layer.epsilon == 1e-5
    x = np.random.default_rng(16).normal(size=(4, 3, 7, 7)).astype("float32")
    np.testing.assert_allclose(
        script["keras_eval"](layer, x),
        script["torch_eval"](x, script["state"]),
        **TOLERANCE,
    )


@pytest.mark.claim("pytorch/epsilon-must-match")
def test_default_epsilon_breaks_the_port():
    script = docsite.run_snippet(SNIPPET)
    assert script["default_eps"].epsilon == 1e-3
    mismatch = script["mismatch"]
    assert mismatch > 1000 * TOLERANCE["atol"]
    docsite.record(PAGE, "default_epsilon_mismatch", round(mismatch, 2))
    smallest = float(script["state"]["running_var"].min())
    docsite.record(PAGE, "smallest_running_var", round(smallest, 3))
    # Per channel, Keras's epsilon shrinks the normalised values by a
    # factor: negligibly where the variance is near 1, by much more where it
    # is small.
    state, x = script["state"], script["x"]
    beta = state["bias"][None, :, None, None]
    ratio = (script["keras_eval"](script["default_eps"], x) - beta) / (
        script["expected"] - beta
    )
    shrink = 1 - np.median(ratio, axis=(0, 2, 3))
    variance = state["running_var"]
    np.testing.assert_allclose(
        shrink, 1 - np.sqrt((variance + 1e-5) / (variance + 1e-3)), rtol=1e-2
    )
    near_one = variance > 0.5
    assert near_one.sum() == 2 and (shrink[near_one] < 1e-3).all()
    assert shrink[variance.argmin()] > 0.02
    docsite.record(PAGE, "epsilon_shrink_near_one", float(shrink[near_one].max()))
    docsite.record(PAGE, "epsilon_shrink_smallest", float(shrink[variance.argmin()]))


@pytest.mark.claim("pytorch/momentum-only-in-training")
def test_momentum_matters_only_in_training_mode():
    script = docsite.run_snippet(SNIPPET)
    state, x = script["state"], script["x"]
    ported = script["batch_norm_from_torch"](state)  # momentum 0.9
    other = script["batch_norm_from_torch"](state, momentum=0.5)  # Keras 0.5
    np.testing.assert_array_equal(
        script["keras_eval"](ported, x), script["keras_eval"](other, x)
    )
    batch = np.transpose(x, (0, 2, 3, 1))
    ported(batch, training=True)
    other(batch, training=True)
    assert not np.allclose(moving_statistics(ported)[0], moving_statistics(other)[0])


@pytest.mark.claim("pytorch/keras-momentum-none-rejected")
def test_keras_has_no_cumulative_average_setting():
    with pytest.raises(TypeError):
        keras.layers.BatchNormalization(momentum=None)
