"""An LSTM classifier that reads each digit image row by row, with dropout on
the inputs of the LSTM (its `dropout` argument).

Run it with `python snippets/recurrent/input_dropout.py`.
"""

# --8<-- [start:data]
import time

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)  # seeds Python, NumPy and the backend at once

# 1,797 images of 8 x 8 pixels, each pixel 0 to 16: read as 8 time steps
# (the rows, top to bottom) of 8 features (the pixels of one row).
digits = load_digits()
x = digits.images.astype("float32") / 16.0  # shape (1797, 8, 8), values 0 to 1
y = digits.target  # the digit, 0 to 9
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.25, random_state=0, stratify=y
)
print(f"train: {x_train.shape}, test: {x_test.shape}")
# --8<-- [end:data]

# --8<-- [start:model]
model = keras.Sequential(
    [
        keras.Input(shape=(8, 8)),  # (time steps, features)
        # dropout=0.2: each of the 8 input features is zeroed with
        # probability 0.2, with one mask per sequence for all 8 time steps.
        keras.layers.LSTM(32, dropout=0.2),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
# --8<-- [end:model]

# --8<-- [start:train]
model.compile(
    optimizer=keras.optimizers.Adam(0.01),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
start = time.perf_counter()
history = model.fit(x_train, y_train, epochs=10, batch_size=64, verbose=0)
fit_seconds = time.perf_counter() - start  # varies from run to run
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}")
# --8<-- [end:train]
