"""The claims of docs/attention.md, one test each."""

import keras
import numpy as np
import pytest

import docsite
from docsite import ROOT, record

RATE = 0.5


def as_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def script(name):
    return docsite.run_snippet(ROOT / "snippets" / "attention" / f"{name}.py")


def built(name):
    """The model a script builds, untrained: its code up to the training."""
    source = (ROOT / "snippets" / "attention" / f"{name}.py").read_text()
    namespace = {"__name__": "__main__"}
    exec(source.split("# --8<-- [start:train]")[0], namespace)
    return namespace["model"]


def see_through_attention(length=8, batch=64, seed=0):
    """One head whose value and output projections are the identity, on
    values that are the one-hot position of each token: its output is then
    exactly the attention weights that multiplied the values."""
    rng = np.random.default_rng(seed)
    tokens = rng.normal(size=(batch, length, length)).astype("float32")
    one_hot = np.broadcast_to(np.eye(length, dtype="float32"), tokens.shape)
    layer = keras.layers.MultiHeadAttention(1, key_dim=length, dropout=RATE, seed=1)
    layer(tokens, one_hot, key=tokens)  # builds the projections
    layer.value_dense.set_weights(
        [np.eye(length, dtype="float32")[:, None, :], np.zeros((1, length), "float32")]
    )
    layer.output_dense.set_weights(
        [np.eye(length, dtype="float32")[None], np.zeros((length,), "float32")]
    )
    return layer, tokens, one_hot


@pytest.mark.claim("attention/mha-drops-weights")
def test_mha_dropout_drops_attention_weights():
    layer, tokens, values = see_through_attention()
    used, scores = layer(
        tokens, values, key=tokens, training=True, return_attention_scores=True
    )
    used, weights = as_numpy(used), as_numpy(scores)[:, 0]  # the one head
    # Each weight the values were multiplied by is 0 or weight / (1 - rate).
    dropped = used == 0
    np.testing.assert_allclose(
        used[~dropped], weights[~dropped] / (1 - RATE), rtol=1e-5
    )
    fraction = float(dropped.mean())
    assert abs(fraction - RATE) < 0.05
    # At inference, nothing is dropped: the weights are used as they are.
    plain, scores = layer(tokens, values, key=tokens, return_attention_scores=True)
    np.testing.assert_allclose(as_numpy(plain), as_numpy(scores)[:, 0], atol=1e-6)


@pytest.mark.claim("attention/scores-before-dropout")
def test_returned_scores_are_before_dropout():
    layer, tokens, values = see_through_attention()
    used, in_training = layer(
        tokens, values, key=tokens, training=True, return_attention_scores=True
    )
    _, at_inference = layer(tokens, values, key=tokens, return_attention_scores=True)
    in_training = as_numpy(in_training)
    assert np.all(in_training > 0)  # no weight of the returned ones is zero
    np.testing.assert_allclose(in_training.sum(axis=-1), 1, rtol=1e-5)
    np.testing.assert_allclose(in_training, as_numpy(at_inference), rtol=1e-6)
    assert np.any(as_numpy(used) == 0)  # while the values did see zeros


def inbound(operation):
    """The operations whose outputs ``operation`` takes (first call)."""
    return [
        tensor._keras_history.operation
        for tensor in operation._inbound_nodes[0].input_tensors
    ]


def of_type(model, kind):
    return [op for op in model.operations if type(op).__name__ == kind]


@pytest.mark.claim("attention/where-the-norm-sits")
def test_where_layer_normalization_sits():
    post, pre = built("post_norm"), built("pre_norm")
    # Post-norm: every LayerNormalization normalises a residual sum.
    norms = of_type(post, "LayerNormalization")
    assert len(norms) == 2
    assert all(type(inbound(norm)[0]).__name__ == "Add" for norm in norms)
    # Pre-norm: each sum adds a branch to an input that no norm touched, and
    # the attention and feed-forward branches start from a LayerNormalization.
    norms = of_type(pre, "LayerNormalization")
    assert len(norms) == 3
    stream = [type(inbound(add)[0]).__name__ for add in of_type(pre, "Add")]
    assert stream == ["Dropout", "Add"]  # embeddings, then the first sum
    attention = of_type(pre, "MultiHeadAttention")[0]
    assert {type(op).__name__ for op in inbound(attention)} == {"LayerNormalization"}
    first_dense = of_type(pre, "Dense")[1]  # after the input projection
    assert type(inbound(first_dense)[0]).__name__ == "LayerNormalization"
    # And the stack ends with one more LayerNormalization, on the last sum.
    assert type(inbound(norms[-1])[0]).__name__ == "Add"


@pytest.mark.claim("attention/one-run-each")
@pytest.mark.parametrize("name", ["post_norm", "pre_norm"])
def test_one_run_each(name):
    run = script(name)
    losses = run["history"].history["loss"]
    assert losses[-1] < losses[0]
    assert run["test_accuracy"] > 0.8  # trained, without a warm-up
    record("attention", f"{name}_accuracy", float(run["test_accuracy"]))


def tokens(batch=4, length=6, width=16, seed=0):
    rng = np.random.default_rng(seed)
    # Each example on its own scale and offset, as token features can be.
    scale = rng.uniform(0.5, 3, size=(batch, 1, 1))
    return (rng.normal(size=(batch, length, width)) * scale + 2).astype("float32")


@pytest.mark.claim("attention/layernorm-per-token")
def test_layer_normalization_per_token():
    x = tokens()
    norm = keras.layers.LayerNormalization()
    out = as_numpy(norm(x))
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-5)
    # Variance v / (v + epsilon), v the token's own: just under 1 here.
    v = x.var(axis=-1)
    np.testing.assert_allclose(out.var(axis=-1), v / (v + norm.epsilon), rtol=1e-4)
    assert out.var(axis=-1).min() > 0.99
    # The same token, with or without the rest of the batch.
    alone = as_numpy(norm(x[:1]))
    np.testing.assert_allclose(alone[0], out[0], rtol=1e-6, atol=1e-6)
    # And in training mode too: it has no batch statistics to switch to.
    np.testing.assert_array_equal(as_numpy(norm(x, training=True)), out)


@pytest.mark.claim("attention/batchnorm-depends-on-batch")
def test_batch_normalization_depends_on_batch_and_padding():
    x = tokens()
    norm = keras.layers.BatchNormalization()
    whole = as_numpy(norm(x, training=True))
    alone = as_numpy(norm(x[:1], training=True))
    assert np.abs(whole[0] - alone[0]).max() > 0.1  # another batch, another output
    # Two padding tokens of zeros at the end of every sequence.
    padded = np.concatenate([x, np.zeros((4, 2, 16), "float32")], axis=1)
    with_padding = as_numpy(norm(padded, training=True))[:, :6]
    assert np.abs(with_padding - whole).max() > 0.1


@pytest.mark.claim("attention/batchnorm-mask")
def test_batch_normalization_mask_leaves_padding_out():
    x = tokens()
    norm = keras.layers.BatchNormalization()
    whole = as_numpy(norm(x, training=True))
    padded = np.concatenate([x, np.zeros((4, 2, 16), "float32")], axis=1)
    mask = np.arange(8) < 6
    mask = np.broadcast_to(mask, (4, 8))
    masked = as_numpy(norm(padded, training=True, mask=mask))[:, :6]
    np.testing.assert_allclose(masked, whole, rtol=1e-4, atol=1e-4)


@pytest.mark.claim("attention/order-blind")
def test_self_attention_ignores_order():
    sequence = np.random.default_rng(0).normal(size=(2, 8, 16)).astype("float32")
    attention = keras.layers.MultiHeadAttention(4, key_dim=4)
    order = np.random.default_rng(1).permutation(8)
    shuffled_in = as_numpy(attention(sequence[:, order], sequence[:, order]))
    np.testing.assert_allclose(
        shuffled_in, as_numpy(attention(sequence, sequence))[:, order], atol=1e-5
    )
