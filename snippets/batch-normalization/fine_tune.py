"""Fine-tuning a pretrained base that holds BatchNormalization.

A small network learns the digits 0 to 4; a new head then reuses it for the
digits 5 to 9, first with the base frozen, then with the base unfrozen but
its BatchNormalization layer still frozen, so that the layer keeps its
pretrained moving statistics.

Run it with `python snippets/batch-normalization/fine_tune.py`.
"""

# --8<-- [start:data]
import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(42)  # seeds Python, NumPy and the backend at once

# 1797 images of handwritten digits, 8x8 pixels with intensities 0 to 16.
digits, labels = load_digits(return_X_y=True)
digits = digits / 16.0
old = labels < 5
# The pretraining data: the digits 0-4. The new task: the digits 5-9,
# relabelled 0-4, with a test split.
x_old, y_old = digits[old], labels[old]
x_new, x_new_test, y_new, y_new_test = train_test_split(
    digits[~old], labels[~old] - 5, test_size=0.3, random_state=42
)
# --8<-- [end:data]


# --8<-- [start:pretrain]
def compile_for_digits(model, learning_rate):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


# The pretrained base: a classifier of the digits 0-4.
base = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(64, use_bias=False),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Activation("relu"),
        keras.layers.Dense(5),  # the old task's head
    ],
    name="base",
)
compile_for_digits(base, 1e-3)
base.fit(x_old, y_old, epochs=5, batch_size=32, verbose=0)
base.pop()  # drop the old head: base now outputs its 64 features
# --8<-- [end:pretrain]

# --8<-- [start:head]
base.trainable = False  # freezes every layer of base, BatchNormalization too
inputs = keras.Input(shape=(64,))
outputs = keras.layers.Dense(5)(base(inputs))  # the new task's head
model = keras.Model(inputs, outputs)
compile_for_digits(model, 1e-2)  # compile after changing trainable
model.fit(x_new, y_new, epochs=5, batch_size=32, verbose=0)
head_loss, head_accuracy = model.evaluate(x_new_test, y_new_test, verbose=0)
print(f"test accuracy, new head alone: {head_accuracy:.3f}")
# --8<-- [end:head]

# --8<-- [start:unfreeze]
before = {w.path: keras.ops.convert_to_numpy(w) for w in base.weights}
base.trainable = True  # unfreezes every layer of base, BatchNormalization too...
for layer in base.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.trainable = False  # ...so freeze it again: inference mode in fit
compile_for_digits(model, 1e-4)  # again: trainable takes effect at compile
history = model.fit(x_new, y_new, epochs=5, batch_size=32, verbose=0)
# --8<-- [end:unfreeze]

# --8<-- [start:check]
for w in base.weights:
    changed = not np.array_equal(before[w.path], keras.ops.convert_to_numpy(w))
    print(f"{w.path:<24} changed by fine-tuning: {changed}")
bn = base.get_layer("bn")
for variable in (bn.moving_mean, bn.moving_variance):
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(variable), before[variable.path]
    )
test_loss, test_accuracy = model.evaluate(x_new_test, y_new_test, verbose=0)
print(f"test accuracy, fine-tuned: {test_accuracy:.3f}")
# --8<-- [end:check]
