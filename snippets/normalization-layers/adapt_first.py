"""The Normalization preprocessing layer, adapted to the training data, as
the first layer of a model on raw digit pixels.

Run it with `python snippets/normalization-layers/adapt_first.py`.
"""

# --8<-- [start:data]
import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(42)  # seeds Python, NumPy and the backend at once

# Raw pixel values, 0 to 16, left unscaled: the model scales them itself.
x, y = load_digits(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(
    x.astype("float32"), y, test_size=0.2, random_state=42, stratify=y
)
# --8<-- [end:data]

# --8<-- [start:adapt]
normalizer = keras.layers.Normalization()  # axis=-1: one mean per feature
# Computes each feature's mean and variance over the training split, once.
normalizer.adapt(x_train)
adapted = normalizer.get_weights()  # mean, variance, and an unused count
print("trainable weights:", len(normalizer.trainable_weights))
# --8<-- [end:adapt]

# --8<-- [start:model]
model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        normalizer,  # (x - mean) / sqrt(variance), with the adapted values
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10),  # one logit per digit
    ]
)
# --8<-- [end:model]

# --8<-- [start:train]
model.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
history = model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}")
# fit() left the adapted statistics as they were.
same = all(map(np.array_equal, normalizer.get_weights(), adapted))
print("statistics unchanged by fit:", same)
# --8<-- [end:train]
