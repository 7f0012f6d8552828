"""BatchNormalization's forward pass in NumPy, checked against Keras.

Run it with `python snippets/from-scratch/batch_norm_numpy.py`.
"""

# --8<-- [start:train]
import keras  # only for the comparison further down
import numpy as np


def batch_norm_train(
    x, gamma, beta, moving_mean, moving_variance, momentum=0.99, epsilon=1e-3
):
    """Training mode, features on the last axis (Keras's default axis=-1).

    Returns the output and the updated moving statistics.
    """
    axes = tuple(range(x.ndim - 1))  # every axis but the features': N (H, W)
    mean = x.mean(axis=axes)
    variance = x.var(axis=axes)  # biased: divides by m, not m - 1
    y = gamma * (x - mean) / np.sqrt(variance + epsilon) + beta
    moving_mean = momentum * moving_mean + (1 - momentum) * mean
    moving_variance = momentum * moving_variance + (1 - momentum) * variance
    return y, moving_mean, moving_variance


# --8<-- [end:train]


# --8<-- [start:inference]
def batch_norm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon=1e-3):
    """Inference mode: the moving statistics replace the batch's."""
    return gamma * (x - moving_mean) / np.sqrt(moving_variance + epsilon) + beta


# --8<-- [end:inference]

# --8<-- [start:check]
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}  # float32 arithmetic on both sides


def compare_with_keras(shape, updates):
    """Run a Keras layer and the NumPy functions side by side on `updates`
    training-mode batches of `shape`, then on one inference-mode batch."""
    layer = keras.layers.BatchNormalization()
    layer.build(shape)
    gamma, beta, moving_mean, moving_variance = layer.get_weights()  # 1, 0, 0, 1
    # Learned-looking gamma and beta, so that a mistake with either would show.
    gamma = rng.uniform(0.5, 2.0, gamma.shape).astype("float32")
    beta = rng.normal(size=beta.shape).astype("float32")
    layer.set_weights([gamma, beta, moving_mean, moving_variance])

    for _ in range(updates):
        x = rng.normal(loc=5.0, scale=3.0, size=shape).astype("float32")
        y, moving_mean, moving_variance = batch_norm_train(
            x, gamma, beta, moving_mean, moving_variance
        )
        keras_y = keras.ops.convert_to_numpy(layer(x, training=True))
        np.testing.assert_allclose(keras_y, y, **TOLERANCE)
        # After this update, Keras holds the same moving statistics.
        _, _, keras_moving_mean, keras_moving_variance = layer.get_weights()
        np.testing.assert_allclose(keras_moving_mean, moving_mean, **TOLERANCE)
        np.testing.assert_allclose(keras_moving_variance, moving_variance, **TOLERANCE)

    x = rng.normal(loc=5.0, scale=3.0, size=shape).astype("float32")
    y = batch_norm_inference(x, gamma, beta, moving_mean, moving_variance)
    keras_y = keras.ops.convert_to_numpy(layer(x, training=False))
    np.testing.assert_allclose(keras_y, y, **TOLERANCE)


compare_with_keras((64, 5), updates=5)  # (N, C)
compare_with_keras((16, 8, 8, 3), updates=5)  # (N, H, W, C)
print("NumPy and Keras agree within", TOLERANCE)
# --8<-- [end:check]
