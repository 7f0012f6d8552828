"""The claims of docs/recurrent.md, one test each."""

import itertools
import os

import keras
import numpy as np
import pytest

import docsite
from docsite import ROOT, record

SCRIPTS = ROOT / "snippets" / "recurrent"
RATE = 0.5  # kept values are scaled by 1 / (1 - 0.5) = 2


def as_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def sequences(shape=(16, 4, 3), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def candidate_masks(size):
    """Every keep/drop mask of `size` values, as dropout scales them: 0 or 2."""
    return np.array(list(itertools.product([0.0, 2.0], repeat=size)), "float32")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.claim("recurrent/input-mask-per-sequence")
@pytest.mark.parametrize("kind", [keras.layers.LSTM, keras.layers.GRU])
def test_input_mask_drawn_once_per_sequence(kind):
    x = sequences()
    batch, steps, features = x.shape
    noisy = kind(4, dropout=RATE, return_sequences=True, seed=1)
    out = as_numpy(noisy(x, training=True))
    # The same layer without dropout, on inputs multiplied by each of the 8
    # masks that are constant in time: one of them gives each example's output.
    plain = kind(4, return_sequences=True)
    plain.build(x.shape)
    plain.set_weights(noisy.get_weights())
    masks = candidate_masks(features)  # (8, features)
    masked = x[:, None] * masks[None, :, None, :]  # (batch, 8, steps, features)
    ref = as_numpy(plain(masked.reshape(-1, steps, features)))
    ref = ref.reshape(batch, len(masks), steps, -1)
    close = np.all(np.abs(ref - out[:, None]) < 1e-5, axis=(2, 3))
    assert close.any(axis=1).all()  # every example: one mask for every step
    chosen = {tuple(masks[row.argmax()]) for row in close}
    assert len(chosen) > 1  # each example draws its own
    # At inference, no mask at all.
    np.testing.assert_allclose(as_numpy(noisy(x)), as_numpy(plain(x)), atol=1e-6)


def lstm_reference(x, layer, recurrent_masks):
    """Keras's LSTM cell (implementation 1) in NumPy, with one recurrent
    mask per gate (i, f, c, o), each of shape (batch, units), at every step."""
    kernel, recurrent_kernel, bias = (as_numpy(w) for w in layer.weights)
    units = recurrent_kernel.shape[0]
    k = np.split(kernel, 4, axis=1)
    r = np.split(recurrent_kernel, 4, axis=1)
    b = np.split(bias, 4)
    h = np.zeros((x.shape[0], units), "float32")
    c = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[1]):
        z = [x[:, t] @ k[g] + b[g] + (h * recurrent_masks[g]) @ r[g] for g in range(4)]
        i, f, o = sigmoid(z[0]), sigmoid(z[1]), sigmoid(z[3])
        c = f * c + i * np.tanh(z[2])
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1)


@pytest.mark.claim("recurrent/recurrent-mask-per-sequence")
def test_recurrent_mask_drawn_once_per_sequence():
    x = sequences()
    batch, units = x.shape[0], 2
    lstm = keras.layers.LSTM(
        units, recurrent_dropout=RATE, return_sequences=True, seed=2
    )
    out = as_numpy(lstm(x, training=True))
    # All 256 choices of 4 gate masks of 2 values, each constant in time.
    masks = candidate_masks(4 * units).reshape(-1, 4, units)  # (256, 4, 2)
    tiled = np.repeat(x, len(masks), axis=0)
    per_gate = [np.tile(masks[:, g], (batch, 1)) for g in range(4)]
    ref = lstm_reference(tiled, lstm, per_gate).reshape(batch, len(masks), -1, units)
    close = np.all(np.abs(ref - out[:, None]) < 1e-5, axis=(2, 3))
    assert close.any(axis=1).all()  # every example: the same masks at every step
    assert not close.all()  # and the candidates are told apart
    chosen = {close[e].argmax() for e in range(batch)}
    assert len(chosen) > 1
    # GRU's cell reuses one recurrent mask too: the same one at every step.
    gru = keras.layers.GRU(4, recurrent_dropout=RATE, seed=3)
    gru(x)
    seen, draw = [], gru.cell.get_recurrent_dropout_mask

    def spy(state):
        mask = draw(state)
        seen.append(np.stack([as_numpy(m) for m in mask]))
        return mask

    gru.cell.get_recurrent_dropout_mask = spy
    gru(x, training=True)
    assert len(seen) > x.shape[1]  # asked at every step
    assert all(np.array_equal(m, seen[0]) for m in seen)
    assert 0 < np.mean(seen[0] == 0) < 1


@pytest.mark.claim("recurrent/new-masks-per-call")
def test_new_masks_at_every_call():
    x = sequences()
    layer = keras.layers.LSTM(4, dropout=0.2, recurrent_dropout=0.2, seed=4)
    first, second = (as_numpy(layer(x, training=True)) for _ in range(2))
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(as_numpy(layer(x)), as_numpy(layer(x)))


@pytest.mark.claim("recurrent/one-mask-per-gate")
def test_recurrent_dropout_draws_one_mask_per_gate():
    step, state = sequences()[:, 0], np.ones((16, 4), "float32")
    for kind, gates in [(keras.layers.LSTM, 4), (keras.layers.GRU, 3)]:
        alone = kind(4, dropout=0.2).cell
        both = kind(4, dropout=0.2, recurrent_dropout=0.2).cell
        assert (alone.implementation, both.implementation) == (2, 1)
        single = as_numpy(alone.get_dropout_mask(step))
        assert single.shape == step.shape  # one input mask for all gates
        per_gate = [as_numpy(m) for m in both.get_dropout_mask(step)]
        assert len(per_gate) == gates
        assert all(m.shape == step.shape for m in per_gate)
        assert not np.array_equal(per_gate[0], per_gate[1])
        assert len(both.get_recurrent_dropout_mask(state)) == gates


@pytest.mark.claim("recurrent/dropout-layer-per-step")
def test_dropout_layer_on_sequences():
    x = np.ones((32, 8, 6), "float32")
    plain = as_numpy(keras.layers.Dropout(RATE, seed=5)(x, training=True))
    zero = plain == 0
    # Some (example, feature) pairs are zero at one step and kept at another.
    assert (zero.any(axis=1) & ~zero.all(axis=1)).any()
    shared = keras.layers.Dropout(RATE, noise_shape=(None, 1, 6), seed=5)
    out = as_numpy(shared(x, training=True))
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1], out.shape))
    assert 0 < np.mean(out == 0) < 1


def embedded_tokens():
    tokens = np.random.default_rng(6).integers(1, 50, size=(32, 10))
    embedding = keras.layers.Embedding(50, 8)
    return as_numpy(embedding(tokens))  # (32 sentences, 10 tokens, 8 dims)


@pytest.mark.claim("recurrent/spatial-dropout-drops-dimensions")
def test_spatial_dropout_1d_drops_embedding_dimensions():
    vectors = embedded_tokens()
    out = as_numpy(keras.layers.SpatialDropout1D(RATE, seed=7)(vectors, training=True))
    dropped = out == 0
    # A dimension is zero at every token of a sentence, or at none.
    np.testing.assert_array_equal(dropped, dropped[:, :1].repeat(10, axis=1))
    assert 0 < dropped.mean() < 1
    # No token loses its whole vector unless all 8 dimensions were drawn.
    assert not dropped.all(axis=2).any()
    np.testing.assert_allclose(out[~dropped], 2 * vectors[~dropped], rtol=1e-6)
    # The same as Dropout with a mask shared across the tokens.
    shared = keras.layers.Dropout(RATE, noise_shape=(None, 1, 8), seed=7)
    np.testing.assert_array_equal(as_numpy(shared(vectors, training=True)), out)


@pytest.mark.claim("recurrent/token-dropout")
def test_noise_shape_drops_whole_tokens():
    vectors = embedded_tokens()
    layer = keras.layers.Dropout(RATE, noise_shape=(None, None, 1), seed=8)
    out = as_numpy(layer(vectors, training=True))
    dropped = (out == 0).all(axis=2)  # a token's whole vector is zero
    kept = (out != 0).all(axis=2)
    assert (dropped | kept).all()
    assert 0 < dropped.mean() < 1
    np.testing.assert_allclose(out[kept], 2 * vectors[kept], rtol=1e-6)


@pytest.mark.claim("recurrent/no-cudnn-with-recurrent-dropout")
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_fused_kernel_skipped_with_recurrent_dropout(kind, monkeypatch):
    from keras.src import backend

    tried = []

    def fused(inputs, *args, **kwargs):  # where cuDNN would run; here, no GPU
        tried.append(as_numpy(inputs))
        raise NotImplementedError

    monkeypatch.setattr(backend, kind, fused)
    layer_class = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[kind]
    x = sequences()
    layer_class(4, dropout=0.2)(x, training=True)
    assert len(tried) == 1  # tried, and fell back to the step-by-step loop
    dropped = tried[0] == 0  # the kernel gets the inputs already masked,
    np.testing.assert_array_equal(dropped, dropped[:, :1].repeat(x.shape[1], 1))
    assert dropped.any()  # with one mask for all the steps
    layer_class(4, recurrent_dropout=0.2)(x, training=True)
    layer_class(4, recurrent_dropout=0.2)(x)  # even at inference
    assert len(tried) == 1  # never tried


@pytest.mark.claim("recurrent/use-cudnn-true-raises")
def test_use_cudnn_true_with_recurrent_dropout_raises():
    for kind in (keras.layers.LSTM, keras.layers.GRU):
        layer = kind(4, recurrent_dropout=0.2, use_cudnn=True)
        with pytest.raises(ValueError, match="cuDNN is not supported"):
            layer(sequences())


@pytest.mark.claim("recurrent/accuracy-one-run")
@pytest.mark.parametrize(
    "name", ["input_dropout", "recurrent_dropout", "dropout_layers"]
)
def test_accuracy_of_each_placement(name):
    accuracy = docsite.run_snippet(SCRIPTS / f"{name}.py")["test_accuracy"]
    assert accuracy > 0.5  # chance is 0.1
    record("recurrent", f"accuracy_{name}", accuracy, digits=3)


@pytest.mark.claim("recurrent/fit-seconds")
def test_fit_seconds_on_this_machine():
    import tensorflow as tf

    seconds = {
        name: docsite.run_snippet(SCRIPTS / f"{name}.py")["fit_seconds"]
        for name in ("input_dropout", "recurrent_dropout")
    }
    assert all(s > 0 for s in seconds.values())
    # Wall times differ from run to run, so they are stored by `make data`
    # only, as one run's measurement, and not compared on every run.
    if os.environ.get("UPDATE_DATA") == "1":
        # The page says they come from a machine without a GPU, where
        # neither model can use the cuDNN kernel.
        assert not tf.config.list_logical_devices("GPU")
        for name, value in seconds.items():
            record("recurrent", f"fit_seconds_{name}", value, digits=1)


@pytest.mark.claim("recurrent/bn-pools-time")
def test_batch_normalization_pools_batch_and_time():
    # Each time step has its own level: step t has mean t.
    x = sequences((64, 8, 3)) + np.arange(8, dtype="float32")[None, :, None]
    bn = keras.layers.BatchNormalization()
    out = as_numpy(bn(x, training=True))
    assert tuple(bn.moving_mean.shape) == (3,)  # one per feature, not per step
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0, atol=1e-4)
    per_step = out.mean(axis=(0, 2))
    assert per_step[0] < -1 and per_step[-1] > 1  # the steps are not centred


@pytest.mark.claim("recurrent/bn-mask")
def test_batch_normalization_skips_masked_steps():
    x = sequences((64, 8, 3))
    x[:, 5:] = 0.0  # padding: the last 3 steps of every sequence
    valid = x[:, :5]
    inputs = keras.Input(shape=(8, 3))
    masked = keras.layers.Masking(0.0)(inputs)
    normalised = keras.layers.BatchNormalization(epsilon=1e-6)
    model = keras.Model(inputs, normalised(masked))
    out = as_numpy(model(x, training=True))
    expected = (valid - valid.mean(axis=(0, 1))) / np.sqrt(valid.var((0, 1)) + 1e-6)
    np.testing.assert_allclose(out[:, :5], expected, atol=1e-3)
    unmasked = keras.layers.BatchNormalization(epsilon=1e-6)
    pooled = as_numpy(unmasked(x, training=True))
    assert not np.allclose(pooled[:, :5], expected, atol=1e-2)
    # Token 0 as padding, marked by the Embedding: left out the same way.
    tokens = np.random.default_rng(9).integers(1, 20, size=(32, 6))
    tokens[:, 4:] = 0
    inputs = keras.Input(shape=(6,), dtype="int32")
    embedding = keras.layers.Embedding(20, 4, mask_zero=True)
    after = keras.layers.BatchNormalization(epsilon=1e-6)
    model = keras.Model(inputs, after(embedding(inputs)))
    out = as_numpy(model(tokens, training=True))
    vectors = as_numpy(embedding(tokens))[:, :4]
    expected = (vectors - vectors.mean((0, 1))) / np.sqrt(vectors.var((0, 1)) + 1e-6)
    np.testing.assert_allclose(out[:, :4], expected, atol=1e-3)


@pytest.mark.claim("recurrent/layer-norm-per-step")
def test_layer_normalization_per_example_and_step():
    x = sequences((16, 8, 6)) * 3 + 1
    ln = keras.layers.LayerNormalization(epsilon=1e-6)
    out = as_numpy(ln(x, training=True))
    np.testing.assert_allclose(out.mean(axis=2), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=2), 1, atol=1e-3)
    # The same output with or without the rest of the batch, in either mode.
    np.testing.assert_allclose(as_numpy(ln(x[:1])), out[:1], atol=1e-6)
    assert ln.weights and all(w.trainable for w in ln.weights)  # no statistics


@pytest.mark.claim("recurrent/bn-after-last-layer")
def test_batch_normalization_after_the_last_recurrent_layer():
    last = keras.layers.LSTM(32)(sequences((64, 8, 3)))  # (batch, 32): no time
    bn = keras.layers.BatchNormalization()
    out = as_numpy(bn(last, training=True))
    assert tuple(bn.moving_mean.shape) == (32,)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
