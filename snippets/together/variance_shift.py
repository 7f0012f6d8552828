"""Measure the variance shift of Dropout placed before BatchNormalization.

While training, dropout inflates the variance of what flows through it; at
inference it does not. A BatchNormalization layer after it learns its moving
variance from the inflated training-time input, then meets the smaller
inference-time input. This script trains the same network with Dropout
before and after BatchNormalization, and measures, for every feature that
BatchNormalization receives, the variance in training mode divided by the
variance in inference mode.

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
def build(dropout_first: bool) -> tuple[keras.Model, keras.Model]:
    """The network, and a probe model that outputs what BatchNormalization
    receives."""
    inputs = keras.Input(shape=(30,))
    hidden = keras.layers.Dense(128, activation="relu")(inputs)
    if dropout_first:  # Dense -> ReLU -> Dropout -> BN
        bn_input = keras.layers.Dropout(0.5)(hidden)
        outputs = keras.layers.BatchNormalization(name="bn")(bn_input)
    else:  # Dense -> ReLU -> BN -> Dropout
        bn_input = hidden
        normalized = keras.layers.BatchNormalization(name="bn")(bn_input)
        outputs = keras.layers.Dropout(0.5)(normalized)
    model = keras.Model(inputs, keras.layers.Dense(1)(outputs))
    return model, keras.Model(inputs, bn_input)


# --8<-- [end:build]


# --8<-- [start:measure]
def variance_shift(probe: keras.Model) -> float:
    """Median over features of BN's input variance, training / inference."""
    training = keras.ops.convert_to_numpy(probe(x_train, training=True))
    inference = keras.ops.convert_to_numpy(probe(x_train, training=False))
    active = inference.var(axis=0) > 1e-6  # skip ReLU units that never fire
    ratio = training.var(axis=0)[active] / inference.var(axis=0)[active]
    return float(np.median(ratio))


def measure(dropout_first: bool) -> float:
    model, probe = build(dropout_first)
    model.compile(
        optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True)
    )
    model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
    return variance_shift(probe)


shift = {dropout_first: measure(dropout_first) for dropout_first in (True, False)}
print(f"Dropout -> BN: BN input variance, training / inference = {shift[True]:.2f}")
print(f"BN -> Dropout: BN input variance, training / inference = {shift[False]:.2f}")
assert shift[True] > shift[False]  # the shift only exists with dropout first
# --8<-- [end:measure]
