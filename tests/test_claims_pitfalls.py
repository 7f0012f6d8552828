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
    summary = output.split("built: False\n", 1)[1].rstrip()
    record("pitfalls", "unbuilt_summary", summary)


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
