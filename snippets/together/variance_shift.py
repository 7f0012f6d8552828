"""Measure the variance shift of Dropout placed before BatchNormalization.

While training, dropout inflates the variance of what flows through it; at
inference it does not. A BatchNormalization layer after it learns its moving
variance from the inflated training-time input, then meets the smaller
inference-time input. This script trains two networks: one with Dropout
right before BatchNormalization, and two blocks of the usual order, where
the first block's Dropout reaches the second block's BatchNormalization
through a Dense layer. For every feature that the measured
BatchNormalization layer receives, it divides the variance with dropout on
by the variance with dropout off, every other layer in inference mode, and
repeats this over several dropout masks.

Run it with `python snippets/together/variance_shift.py`.
"""

# --8<-- [start:data]
import keras
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(42)

x, y = load_breast_cancer(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, random_state=42, stratify=y
)
scaler = StandardScaler().fit(x_train)
x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
# --8<-- [end:data]


# --8<-- [start:build]
def build(stacked: bool) -> keras.Sequential:
    """Dropout right before the measured BatchNormalization layer, or two
    blocks of the usual order, measured at the second block's BN."""
    if stacked:  # Dense -> BN -> ReLU -> Dropout -> Dense -> BN -> ReLU -> Dropout
        hidden = [
            keras.layers.Dense(128, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.Dropout(0.5),  # reaches the next BN through Dense
            keras.layers.Dense(128, use_bias=False),
            keras.layers.BatchNormalization(name="measured"),
            keras.layers.Activation("relu"),
            keras.layers.Dropout(0.5),
        ]
    else:  # Dense -> ReLU -> Dropout -> BN
        hidden = [
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.BatchNormalization(name="measured"),
        ]
    return keras.Sequential([keras.Input(shape=(30,)), *hidden, keras.layers.Dense(1)])


# --8<-- [end:build]


# --8<-- [start:measure]
def bn_input(model: keras.Sequential, dropout: bool) -> np.ndarray:
    """What the measured BN layer receives on the training split, with
    Dropout on or off and every other layer in inference mode."""
    h = x_train
    for layer in model.layers:
        if layer.name == "measured":
            return keras.ops.convert_to_numpy(h)
        h = layer(h, training=dropout and isinstance(layer, keras.layers.Dropout))


def variance_shift(model: keras.Sequential) -> float:
    """Median over features of the BN input's variance, dropout on / off."""
    on, off = bn_input(model, dropout=True), bn_input(model, dropout=False)
    active = off.var(axis=0) > 1e-6  # skip ReLU units that never fire
    return float(np.median(on.var(axis=0)[active] / off.var(axis=0)[active]))


MASKS = 20  # dropout masks per measurement


def measure(stacked: bool) -> tuple[float, float]:
    """The shift after training, its mean and spread over dropout masks."""
    model = build(stacked)
    model.compile(
        optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True)
    )
    model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
    shifts = [variance_shift(model) for _ in range(MASKS)]
    return float(np.mean(shifts)), float(np.std(shifts))


shift = {stacked: measure(stacked) for stacked in (False, True)}
for stacked, name in ((False, "Dropout -> BN"), (True, "Dropout -> Dense -> BN")):
    mean, spread = shift[stacked]
    print(f"{name}: BN input variance, dropout on / off = {mean:.2f} ± {spread:.2f}")
assert shift[False][0] > shift[True][0] > 1  # weakened, not gone
# --8<-- [end:measure]
