"""Port a PyTorch BatchNorm2d layer's weights to keras.layers.BatchNormalization.

Run it with `python snippets/pytorch/convert_batchnorm.py`. PyTorch is not
needed: the layer's state dict is given as NumPy arrays.
"""

# --8<-- [start:state]
import keras
import numpy as np

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
channels = 3
# A trained torch.nn.BatchNorm2d(3), as NumPy arrays: what
# {name: tensor.numpy() for name, tensor in bn.state_dict().items()} gives.
state = {
    "weight": rng.uniform(0.5, 2.0, channels).astype("float32"),
    "bias": rng.normal(size=channels).astype("float32"),
    "running_mean": rng.normal(size=channels).astype("float32"),
    "running_var": rng.uniform(0.01, 1.0, channels).astype("float32"),
    "num_batches_tracked": np.array(1000),  # no Keras counterpart
}
# --8<-- [end:state]


# --8<-- [start:convert]
def batch_norm_from_torch(state, momentum=0.1, eps=1e-5):
    """A channels-last Keras layer with the weights of a PyTorch BatchNorm
    layer whose constructor had these `momentum` and `eps`."""
    layer = keras.layers.BatchNormalization(
        momentum=1 - momentum,  # Keras weighs the old value, PyTorch the new
        epsilon=eps,  # PyTorch's default is 1e-5, Keras's 1e-3
    )
    # The input of a BatchNorm2d, channels-last: (N, H, W, C). For a
    # BatchNorm1d, build with (None, C) for (N, C) inputs, or with
    # (None, None, C) for (N, L, C), the channels-last form of (N, C, L).
    layer.build((None, None, None, len(state["weight"])))
    layer.set_weights(
        [state["weight"], state["bias"], state["running_mean"], state["running_var"]]
    )
    return layer


# --8<-- [end:convert]


# --8<-- [start:check]
def torch_eval(x, state, eps=1e-5):
    """PyTorch's documented eval-mode formula, on an (N, C, H, W) input."""

    def per_channel(name):  # shape (C, 1, 1): broadcasts over N, H and W
        return state[name][:, None, None]

    normalized = (x - per_channel("running_mean")) / np.sqrt(
        per_channel("running_var") + eps
    )
    return normalized * per_channel("weight") + per_channel("bias")


x = rng.normal(size=(8, channels, 5, 5)).astype("float32")  # PyTorch's layout
expected = torch_eval(x, state)


def keras_eval(layer, x):
    """The Keras layer in inference mode on the same (N, C, H, W) batch:
    moved to channels-last (N, H, W, C) for Keras, and back."""
    y = layer(np.transpose(x, (0, 2, 3, 1)), training=False)
    return np.transpose(keras.ops.convert_to_numpy(y), (0, 3, 1, 2))


layer = batch_norm_from_torch(state)
np.testing.assert_allclose(keras_eval(layer, x), expected, rtol=1e-5, atol=1e-5)

# With Keras's default epsilon, the same weights give a different function.
default_eps = keras.layers.BatchNormalization()
default_eps.build((None, None, None, channels))
default_eps.set_weights(layer.get_weights())
mismatch = float(np.max(np.abs(keras_eval(default_eps, x) - expected)))
assert mismatch > 1e-3, mismatch
print(f"epsilon=1e-5: match; Keras's default epsilon: off by up to {mismatch:.3f}")
# --8<-- [end:check]
