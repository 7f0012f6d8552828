"""The models compared, each built by one mechanism: `keras.Input`, the
variant's layers, then a linear output layer. On feature vectors, the
variants have one hidden layer of `width` units; on images, two
convolutions of `width` and twice `width` filters with a max pooling
between them. Dropout or BatchNormalization go in each of the places the
site discusses.

Every variant has the same width on a given dataset, so two variants
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
    order: str  # the layers between the input and the output layer, in order
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


def conv(filters: int, **kwargs) -> keras.Layer:
    """A 3 x 3 convolution that keeps the image's height and width."""
    return layers.Conv2D(filters, 3, padding="same", **kwargs)


def conv_bn_relu(filters: int) -> list[keras.Layer]:
    return [
        conv(filters, use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
    ]


# A small convolutional network for 8 x 8 images: a convolution of `w`
# filters, a 2 x 2 max pooling, a convolution of 2 w filters, then Flatten
# into the output layer. Every variant adds to these layers, or splits a
# convolution into three, and changes nothing else.
CNN = "Conv2D(relu) → MaxPooling2D → Conv2D(relu) → Flatten"
VARIANTS |= {
    "cnn_baseline": Variant(
        "No regularisation",
        CNN,
        "",
        lambda w, r: [
            conv(w, activation="relu"),
            layers.MaxPooling2D(),
            conv(2 * w, activation="relu"),
            layers.Flatten(),
        ],
    ),
    "cnn_bn_before_activation": Variant(
        "BatchNormalization before each activation",
        "Conv2D(no bias) → BatchNormalization → Activation(relu) → MaxPooling2D "
        "→ Conv2D(no bias) → BatchNormalization → Activation(relu) → Flatten",
        "convolutional.md#where-to-put-them",
        lambda w, r: [
            *conv_bn_relu(w),
            layers.MaxPooling2D(),
            *conv_bn_relu(2 * w),
            layers.Flatten(),
        ],
    ),
    "cnn_bn_after_activation": Variant(
        "BatchNormalization after each activation",
        "Conv2D(relu) → BatchNormalization → MaxPooling2D "
        "→ Conv2D(relu) → BatchNormalization → Flatten",
        "convolutional.md#where-to-put-them",
        lambda w, r: [
            conv(w, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            conv(2 * w, activation="relu"),
            layers.BatchNormalization(),
            layers.Flatten(),
        ],
    ),
    "cnn_dropout": Variant(
        "Dropout after each convolution",
        "Conv2D(relu) → Dropout → MaxPooling2D → Conv2D(relu) → Dropout → Flatten",
        "convolutional.md#where-to-put-them",
        lambda w, r: [
            conv(w, activation="relu"),
            layers.Dropout(r),
            layers.MaxPooling2D(),
            conv(2 * w, activation="relu"),
            layers.Dropout(r),
            layers.Flatten(),
        ],
    ),
    "cnn_spatial_dropout": Variant(
        "SpatialDropout2D after each convolution",
        "Conv2D(relu) → SpatialDropout2D → MaxPooling2D → Conv2D(relu) "
        "→ SpatialDropout2D → Flatten",
        "convolutional.md#dropout-after-a-convolution-spatialdropout2d",
        lambda w, r: [
            conv(w, activation="relu"),
            layers.SpatialDropout2D(r),
            layers.MaxPooling2D(),
            conv(2 * w, activation="relu"),
            layers.SpatialDropout2D(r),
            layers.Flatten(),
        ],
    ),
    "cnn_dropout_after_pooling": Variant(
        "Dropout after each convolution, the first after the pooling",
        "Conv2D(relu) → MaxPooling2D → Dropout → Conv2D(relu) → Dropout → Flatten",
        "convolutional.md#dropout-before-or-after-pooling",
        lambda w, r: [
            conv(w, activation="relu"),
            layers.MaxPooling2D(),
            layers.Dropout(r),
            conv(2 * w, activation="relu"),
            layers.Dropout(r),
            layers.Flatten(),
        ],
    ),
    "cnn_head_dropout": Variant(
        "Dropout before the output layer only",
        "Conv2D(relu) → MaxPooling2D → Conv2D(relu) → Flatten → Dropout",
        "convolutional.md#dropout-before-the-classifier-head",
        lambda w, r: [
            conv(w, activation="relu"),
            layers.MaxPooling2D(),
            conv(2 * w, activation="relu"),
            layers.Flatten(),
            layers.Dropout(r),
        ],
    ),
}


def output(units: int, learning_rate: float) -> keras.Layer:
    """A linear layer: a regression output, one logit, or one logit per class."""
    if learning_rate == 1:
        return layers.Dense(units)
    return SlowDense(units, learning_rate)


def build(
    variant: str, shape: tuple[int, ...], width: int, rate: float, units: int = 1
) -> keras.Model:
    """The variant's model for inputs of `shape` (one example's), ending in
    `units` linear units."""
    return keras.Sequential(
        [
            keras.Input(shape=tuple(shape)),
            *VARIANTS[variant].hidden(width, rate),
            output(units, VARIANTS[variant].output_learning_rate),
        ],
        name=variant,
    )
