"""The same CNN with SpatialDropout2D between its two convolutional blocks.

Run it with `python snippets/convolutional/spatial.py`.
"""

# --8<-- [start:data]
import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(42)  # seeds Python, NumPy and the backend at once

# 1,797 handwritten digits, 8 x 8 pixels with values 0 to 16, one channel.
x, y = load_digits(return_X_y=True)
# Shape (batch, height, width, channels); pixel values scaled to [0, 1].
x = x.reshape(-1, 8, 8, 1).astype("float32") / 16.0
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, random_state=42, stratify=y
)
# --8<-- [end:data]

# --8<-- [start:model]
model = keras.Sequential(
    [
        keras.Input(shape=(8, 8, 1)),
        # No bias: BatchNormalization's beta plays its role.
        keras.layers.Conv2D(16, 3, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),  # axis=-1: one mean per channel
        keras.layers.Activation("relu"),
        keras.layers.SpatialDropout2D(0.2),  # drops whole feature maps
        keras.layers.Conv2D(32, 3, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        keras.layers.MaxPooling2D(2),  # 8 x 8 -> 4 x 4
        keras.layers.GlobalAveragePooling2D(),  # one average per channel
        keras.layers.Dropout(0.3),  # before the classifier head
        keras.layers.Dense(10),  # ten logits
    ]
)
# --8<-- [end:model]

# --8<-- [start:train]
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
history = model.fit(x_train, y_train, epochs=8, batch_size=32, verbose=0)
# evaluate() runs in inference mode: no dropout, moving statistics in BN.
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}")
# --8<-- [end:train]
