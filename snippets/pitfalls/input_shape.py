"""`input_shape=` on a layer that is not first: ignored in Keras 3.

Run it with `python snippets/pitfalls/input_shape.py`.
"""

import keras
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(42)
x, y = load_diabetes(return_X_y=True, scaled=False)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, random_state=42
)
scaler = StandardScaler().fit(x_train)
x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)

# --8<-- [start:broken]
# The pattern of many older tutorials: input_shape on the second layer.
broken = keras.Sequential(
    [
        keras.layers.Dropout(0.3),
        keras.layers.Dense(16, activation="relu", input_shape=[10]),  # ignored
        keras.layers.Dense(1),
    ]
)
print("built:", broken.built)
broken.summary()
# --8<-- [end:broken]

# --8<-- [start:fixed]
fixed = keras.Sequential(
    [
        keras.Input(shape=(10,)),  # the input's shape, declared first
        keras.layers.Dropout(0.3),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1),
    ]
)
print("built:", fixed.built, "- parameters:", fixed.count_params())
# --8<-- [end:fixed]

# Both train: Keras builds the broken model when it first sees data.
for model in (broken, fixed):
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
