"""Dropout's forward pass in NumPy, checked against keras.layers.Dropout.

Run it with `python snippets/from-scratch/dropout_numpy.py`.
"""

# --8<-- [start:dropout]
import keras  # only for the comparison further down
import numpy as np


def dropout(x, rate, training, keep=None, rng=None):
    """Inverted dropout, as keras.layers.Dropout computes it.

    `keep` is the boolean keep-mask; without one, a new mask is drawn
    from the NumPy generator `rng`.
    """
    if not training:
        return x  # inference: the identity
    if keep is None:
        keep = rng.random(x.shape) >= rate  # True with probability 1 - rate
    scale = 1 / (1 - rate)
    return np.where(keep, x * scale, 0)


# --8<-- [end:dropout]

# --8<-- [start:check]
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
rate = 0.3
# No zeros in the input: every zero in an output comes from the mask.
x = rng.uniform(1.0, 2.0, size=(500, 200)).astype("float32")

layer = keras.layers.Dropout(rate, seed=0)
keras_out = keras.ops.convert_to_numpy(layer(x, training=True))

# Keras's random mask cannot be reproduced, but it can be read off its output.
keep = keras_out != 0
# 1. Every kept value is x / (1 - rate), to within one float32 rounding...
np.testing.assert_allclose(keras_out[keep], x[keep] / (1 - rate), rtol=1e-6)
# 2. ...and with Keras's mask, the NumPy function returns Keras's output
# bit for bit.
np.testing.assert_array_equal(dropout(x, rate, training=True, keep=keep), keras_out)

# 3. Keras drops a fraction `rate` of the elements, and so does the NumPy
# function with a mask of its own: each zero count is Binomial(n, rate), so
# the fraction stays within 4 standard deviations of `rate`.
band = 4 * np.sqrt(rate * (1 - rate) / x.size)
zero_fraction = np.mean(keras_out == 0)
numpy_zero_fraction = np.mean(dropout(x, rate, training=True, rng=rng) == 0)
assert abs(zero_fraction - rate) < band, (zero_fraction, band)
assert abs(numpy_zero_fraction - rate) < band, (numpy_zero_fraction, band)

# 4. At inference, both return their input unchanged.
np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
np.testing.assert_array_equal(dropout(x, rate, training=False), x)

print(f"Keras zeroed {zero_fraction:.4f} of {x.size} elements, NumPy", end=" ")
print(f"{numpy_zero_fraction:.4f}; rate {rate}, allowed ±{band:.4f}")
# --8<-- [end:check]
