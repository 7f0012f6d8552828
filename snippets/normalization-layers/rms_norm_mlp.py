"""RMSNormalization between a Dense layer and its activation, on digits.

Run it with `python snippets/normalization-layers/rms_norm_mlp.py`.
"""

# --8<-- [start:data]
import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(42)  # seeds Python, NumPy and the backend at once

# The same digits as 64 features per image, scaled to [0, 1].
x, y = load_digits(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(
    (x / 16.0).astype("float32"), y, test_size=0.2, random_state=42, stratify=y
)
# --8<-- [end:data]

# --8<-- [start:model]
model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(128),
        # Divides each example's 128 values by their root mean square, then
        # multiplies each by a learned scale. No mean, no offset.
        keras.layers.RMSNormalization(),
        keras.layers.Activation("relu"),
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
# --8<-- [end:train]
