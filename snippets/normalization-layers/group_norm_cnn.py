"""GroupNormalization in a small convolutional network on 8 x 8 digit images.

Run it with `python snippets/normalization-layers/group_norm_cnn.py`.
"""

# --8<-- [start:data]
import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(42)  # seeds Python, NumPy and the backend at once

# 1,797 handwritten digits, 8 x 8 pixels with values 0 to 16, target: 0 to 9.
x, y = load_digits(return_X_y=True)
images = (x / 16.0).reshape(-1, 8, 8, 1).astype("float32")  # one channel
x_train, x_test, y_train, y_test = train_test_split(
    images, y, test_size=0.2, random_state=42, stratify=y
)
# --8<-- [end:data]

# --8<-- [start:model]
model = keras.Sequential(
    [
        keras.Input(shape=(8, 8, 1)),
        # No bias: the normalisation subtracts a mean right away, and its
        # beta plays the bias's role.
        keras.layers.Conv2D(16, 3, padding="same", use_bias=False),
        # 16 channels in 4 groups of 4: each image's group is normalised
        # over its own 8 x 8 pixels and 4 channels, whatever the batch.
        keras.layers.GroupNormalization(groups=4),
        keras.layers.Activation("relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
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
