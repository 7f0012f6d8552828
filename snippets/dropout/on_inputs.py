"""Dropout on the input features, then a hidden Dense layer with a fused ReLU.

Run it with `python snippets/dropout/on_inputs.py`.
"""

# --8<-- [start:data]
import keras
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(42)  # seeds Python, NumPy and the backend at once

# 442 patients, 10 clinical measurements, target: disease progression after a year.
x, y = load_diabetes(return_X_y=True, scaled=False)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, random_state=42
)
scaler = StandardScaler().fit(x_train)  # fit on the training split only
x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
# --8<-- [end:data]

# --8<-- [start:model]
model = keras.Sequential(
    [
        keras.Input(shape=(10,)),
        # Zeroes each of the 10 input features with probability 0.3 during
        # training and scales the survivors by 1 / (1 - 0.3).
        keras.layers.Dropout(0.3),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1),  # one linear output: a regression
    ]
)
# --8<-- [end:model]

# --8<-- [start:train]
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
history = model.fit(x_train, y_train, epochs=15, batch_size=16, verbose=0)
# evaluate() runs in inference mode: Dropout passes every feature through.
test_loss, test_mae = model.evaluate(x_test, y_test, verbose=0)
print(f"test MAE: {test_mae:.1f} (targets span {y.min():.0f} to {y.max():.0f})")
# --8<-- [end:train]
