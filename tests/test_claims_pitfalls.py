"""The claims of docs/pitfalls.md, one test each."""

import contextlib
import io
import warnings

import keras
import numpy as np
import pytest

import docsite
from docsite import ROOT, record

SNIPPET = "snippets/pitfalls/input_shape.py"


def as_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


@pytest.mark.claim("pitfalls/input-shape-unbuilt")
def test_input_shape_on_second_layer_leaves_model_unbuilt():
    # Run the page's block exactly as shown, in a fresh Keras session.
    code = docsite.expand(f'--8<-- "{SNIPPET}:broken"', SNIPPET)
    keras.backend.clear_session()
    printed = io.StringIO()
    namespace = {"keras": keras}  # the page imports it in the block before
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(printed):
            exec(compile(code, SNIPPET, "exec"), namespace)
    assert any("input_shape" in str(w.message) for w in caught)  # "only a warning"
    assert namespace["broken"].built is False
    output = printed.getvalue()
    assert "built: False" in output
    assert "(unbuilt)" in output and "Total params: 0" in output


@pytest.mark.claim("pitfalls/input-shape-warning-generic")
def test_input_shape_warning_is_the_same_on_the_first_layer():
    # Keras warns when the layer is created, wherever it will go.
    with pytest.warns(UserWarning, match="input_shape") as caught:
        keras.Sequential([keras.layers.Dense(16, input_shape=[10])])  # used
        keras.Sequential(  # ignored
            [keras.layers.Dropout(0.3), keras.layers.Dense(16, input_shape=[10])]
        )
    messages = [str(w.message) for w in caught if "input_shape" in str(w.message)]
    assert len(messages) == 2 and messages[0] == messages[1]
    assert "ignor" not in messages[0]


@pytest.mark.claim("pitfalls/input-shape-ignored")
def test_input_shape_on_second_layer_is_ignored():
    keras.utils.set_random_seed(0)
    with pytest.warns(UserWarning, match="input_shape"):  # a warning, no error
        model = keras.Sequential(
            [
                keras.layers.Dropout(0.3),
                keras.layers.Dense(16, activation="relu", input_shape=[999]),
                keras.layers.Dense(1),
            ]
        )
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 10)).astype("float32")
    model.fit(x, x.sum(1), epochs=1, verbose=0)
    assert model.built
    assert model.layers[1].kernel.shape == (10, 16)


@pytest.mark.claim("pitfalls/predict-deterministic")
def test_predict_deterministic_training_call_not():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(8),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(1),
        ]
    )
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    np.testing.assert_array_equal(
        model.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert not np.allclose(
        as_numpy(model(x, training=True)), as_numpy(model(x, training=True))
    )


@pytest.mark.claim("pitfalls/frozen-dense-unchanged")
def test_frozen_dense_keeps_its_weights():
    keras.utils.set_random_seed(0)
    frozen = keras.layers.Dense(8, trainable=False)
    model = keras.Sequential([keras.Input(shape=(4,)), frozen, keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in frozen.get_weights()]
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    model.fit(x, x.sum(1), epochs=2, verbose=0)
    for old, new in zip(before, frozen.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert model.optimizer.iterations > 0


@pytest.mark.claim("pitfalls/frozen-dropout-still-drops")
def test_frozen_dropout_still_drops():
    x = np.ones((200, 100), "float32")
    layer = keras.layers.Dropout(0.5, trainable=False, seed=0)
    out = as_numpy(layer(x, training=True))
    band = 4 * np.sqrt(0.25 / x.size)  # 4 binomial standard deviations
    assert abs(float(np.mean(out == 0)) - 0.5) < band


@pytest.mark.claim("pitfalls/training-loss-higher-with-dropout")
def test_training_loss_higher_than_evaluate():
    script = docsite.run_snippet(ROOT / "snippets/dropout/on_inputs.py")
    fit_loss = script["history"].history["loss"][-1]
    evaluate_loss = script["model"].evaluate(
        script["x_train"], script["y_train"], verbose=0
    )[0]
    assert evaluate_loss < fit_loss
    record("pitfalls", "fit_loss", fit_loss, digits=0)
    record("pitfalls", "evaluate_loss", evaluate_loss, digits=0)


BN_SNIPPET = ROOT / "snippets/pitfalls/bn_moving_statistics.py"


@pytest.mark.claim("pitfalls/bn-fit-accuracy-predict-accuracy")
def test_full_training_accuracy_far_lower_predict_accuracy():
    script = docsite.run_snippet(BN_SNIPPET)
    assert script["fit_accuracy"] == 1.0
    assert script["predict_accuracy"] < 0.5
    record("pitfalls", "bn_fit_accuracy", float(script["fit_accuracy"]))
    record("pitfalls", "bn_predict_accuracy", script["predict_accuracy"])


@pytest.mark.claim("pitfalls/bn-moving-mean-lags")
def test_moving_mean_follows_the_update_rule():
    script = docsite.run_snippet(BN_SNIPPET)
    x, updates = script["x"], int(script["model"].optimizer.iterations)
    assert updates == 15 * int(np.ceil(len(x) / 32)) == 90
    mean, moving = float(x[:, 12].mean()), float(script["moving_mean"][12])
    # Starting from 0, 90 updates with momentum 0.99 reach 1 - 0.99**90 of
    # the batches' mean (which varies a little from batch to batch).
    assert moving == pytest.approx((1 - 0.99**updates) * mean, rel=0.03)
    record("pitfalls", "bn_updates", updates)
    record("pitfalls", "bn_proline_mean", mean, digits=0)
    record("pitfalls", "bn_proline_moving_mean", moving, digits=0)


@pytest.mark.claim("pitfalls/bn-fix-lower-momentum")
def test_lower_momentum_fixes_predict():
    script = docsite.run_snippet(BN_SNIPPET)
    model = script["low_momentum"]
    assert model.layers[0].momentum == pytest.approx(0.9)
    assert int(model.optimizer.iterations) == 90  # as many updates as before
    accuracy = script["accuracy"](model)
    assert accuracy >= 0.95
    record("pitfalls", "bn_low_momentum_accuracy", accuracy)


@pytest.mark.claim("pitfalls/bn-fix-more-updates")
def test_more_updates_fix_predict():
    script = docsite.run_snippet(BN_SNIPPET)
    model = script["more_updates"]
    updates = int(model.optimizer.iterations)
    assert updates == 15 * int(np.ceil(len(script["x"]) / 8))
    assert model.layers[0].momentum == pytest.approx(0.99)
    accuracy = script["accuracy"](model)
    assert accuracy >= 0.95
    record("pitfalls", "bn_more_updates", updates)
    record("pitfalls", "bn_more_updates_accuracy", accuracy)


@pytest.mark.claim("pitfalls/bn-fix-reestimate")
def test_reestimating_the_moving_statistics_fixes_predict():
    script = docsite.run_snippet(BN_SNIPPET)
    model, x = script["model"], script["x"]
    bn = model.layers[0]
    # model(x, training=True) with momentum 0 stored the training set's own
    # mean and (biased) variance...
    np.testing.assert_allclose(as_numpy(bn.moving_mean), x.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(as_numpy(bn.moving_variance), x.var(axis=0), rtol=1e-3)
    assert bn.momentum == 0.99  # set back after the call
    # ...and changed nothing else: the same training, without the extra call,
    # gives the same gamma, beta and Dense weights.
    again = script["train"]()
    assert script["accuracy"](again) == script["predict_accuracy"]
    names = [w.path for w in model.weights]
    for name, new, old in zip(
        names, model.get_weights(), again.get_weights(), strict=True
    ):
        if "moving" not in name:
            np.testing.assert_array_equal(new, old, err_msg=name)
    accuracy = script["accuracy"](model)
    assert accuracy >= 0.95
    record("pitfalls", "bn_reestimated_accuracy", accuracy)


@pytest.mark.claim("pitfalls/training-loss-gap-from-dropout")
def test_training_loss_gap_mostly_from_dropout():
    script = docsite.run_snippet(ROOT / "snippets/dropout/on_inputs.py")
    x, y = script["x_train"], script["y_train"]
    gap = (
        script["history"].history["loss"][-1]
        - script["model"].evaluate(x, y, verbose=0)[0]
    )
    # The snippet's model and training, without its Dropout layer.
    keras.utils.set_random_seed(42)
    model = keras.Sequential(
        [
            keras.Input(shape=(10,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    fit_loss = history.history["loss"][-1]
    evaluate_loss = model.evaluate(x, y, verbose=0)[0]
    assert fit_loss - evaluate_loss < 0.25 * gap
    record("pitfalls", "no_dropout_fit_loss", fit_loss, digits=0)
    record("pitfalls", "no_dropout_evaluate_loss", evaluate_loss, digits=0)
