"""The models compared: one hidden layer of `width` units, one output unit,
and Dropout or BatchNormalization in each of the places the site discusses.

Every variant has the same hidden width on a given dataset, so two variants
differ only in which layers they add and where.
"""

from collections.abc import Callable
from dataclasses import dataclass

import keras
from keras import layers, ops

# The output layer's gradient factor of the ablation variant below.
SLOW_OUTPUT = 0.1


class SlowDense(layers.Dense):
    """A Dense layer that computes what Dense computes, but whose weights
    receive `factor` times their gradient: with plain SGD (no momentum),
    the same layer trained at `factor` times the learning rate."""

    def __init__(self, units: int, factor: float, **kwargs):
        super().__init__(units, **kwargs)
        self.factor = factor

    def call(self, inputs):
        def slow(weight):  # forward: `weight`; backward: `factor` times its gradient
            return weight * self.factor + ops.stop_gradient(weight * (1 - self.factor))

        return ops.matmul(inputs, slow(self.kernel)) + slow(self.bias)


@dataclass(frozen=True)
class Variant:
    title: str
    order: str  # the layers between the input and the output unit, in order
    page: str  # the section of the site that shows this placement
    hidden: Callable[[int, float], list[keras.Layer]]  # (width, rate) -> layers
    # The output layer's learning rate, as a multiple of the optimizer's (its
    # gradients are scaled, which is exactly that with plain SGD only).
    output_learning_rate: float = 1.0


VARIANTS: dict[str, Variant] = {
    "baseline": Variant(
        "No regularisation",
        "Dense(relu)",
        "",
        lambda w, r: [layers.Dense(w, activation="relu")],
    ),
    "dropout_inputs": Variant(
        "Dropout on the inputs",
        "Dropout → Dense(relu)",
        "dropout.md#where-to-put-it",
        lambda w, r: [layers.Dropout(r), layers.Dense(w, activation="relu")],
    ),
    "dropout_inputs_activation": Variant(
        "Dropout on the inputs, separate activation",
        "Dropout → Dense → Activation(relu)",
        "dropout.md#where-to-put-it",
        lambda w, r: [
            layers.Dropout(r),
            layers.Dense(w),
            layers.Activation("relu"),
        ],
    ),
    "dropout_hidden": Variant(
        "Dropout after the hidden layer",
        "Dense(relu) → Dropout",
        "dropout.md#where-to-put-it",
        lambda w, r: [layers.Dense(w, activation="relu"), layers.Dropout(r)],
    ),
    "bn_inputs": Variant(
        "BatchNormalization on the inputs",
        "BatchNormalization → Dense(relu)",
        "batch-normalization.md#where-to-put-it",
        lambda w, r: [
            layers.BatchNormalization(),
            layers.Dense(w, activation="relu"),
        ],
    ),
    "bn_after_activation": Variant(
        "BatchNormalization after the activation",
        "Dense(relu) → BatchNormalization",
        "batch-normalization.md#where-to-put-it",
        lambda w, r: [
            layers.Dense(w, activation="relu"),
            layers.BatchNormalization(),
        ],
    ),
    "bn_before_activation": Variant(
        "BatchNormalization before the activation",
        "Dense(no bias) → BatchNormalization → Activation(relu)",
        "batch-normalization.md#where-to-put-it",
        lambda w, r: [
            layers.Dense(w, use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
        ],
    ),
    "bn_relu_dropout": Variant(
        "BatchNormalization, then Dropout after the activation",
        "Dense(no bias) → BatchNormalization → Activation(relu) → Dropout",
        "",
        lambda w, r: [
            layers.Dense(w, use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dropout(r),
        ],
    ),
    "dropout_then_bn": Variant(
        "Dropout, then BatchNormalization",
        "Dense(relu) → Dropout → BatchNormalization",
        "",
        lambda w, r: [
            layers.Dense(w, activation="relu"),
            layers.Dropout(r),
            layers.BatchNormalization(),
        ],
    ),
    "bn_before_activation_slow_output": Variant(
        "BatchNormalization before the activation, output layer at "
        f"{SLOW_OUTPUT:g} times the learning rate",
        "Dense(no bias) → BatchNormalization → Activation(relu)",
        "",
        lambda w, r: [
            layers.Dense(w, use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
        ],
        output_learning_rate=SLOW_OUTPUT,
    ),
}


def output(learning_rate: float) -> keras.Layer:
    """One linear unit: a regression output, or one logit."""
    return layers.Dense(1) if learning_rate == 1 else SlowDense(1, learning_rate)


def build(variant: str, features: int, width: int, rate: float) -> keras.Model:
    """The variant's model for `features` inputs, ending in one linear unit."""
    return keras.Sequential(
        [
            keras.Input(shape=(features,)),
            *VARIANTS[variant].hidden(width, rate),
            output(VARIANTS[variant].output_learning_rate),
        ],
        name=variant,
    )
