"""100% training accuracy, far less from `predict` on the same data: the
moving statistics of BatchNormalization have not caught up yet.

Run it with `python snippets/pitfalls/bn_moving_statistics.py`.
"""

# --8<-- [start:train]
import keras
import numpy as np
from sklearn.datasets import load_wine

keras.utils.set_random_seed(0)

# 178 wines, 13 unscaled features: batch normalization standardises them.
x, y = load_wine(return_X_y=True)
x = x.astype("float32")


def train(momentum=0.99, batch_size=32, epochs=15):
    """A small classifier with batch normalization on its inputs."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(13,)),
            keras.layers.BatchNormalization(momentum=momentum),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def accuracy(model):
    """The accuracy of `predict` on the training data itself."""
    return float(np.mean(model.predict(x, verbose=0).argmax(axis=1) == y))


model = train()  # 6 batches per epoch: 90 updates of the moving statistics
fit_accuracy = model.history.history["accuracy"][-1]
predict_accuracy = accuracy(model)
print(f"fit, last epoch: {fit_accuracy:.0%}; predict: {predict_accuracy:.0%}")
# --8<-- [end:train]

# --8<-- [start:why]
# Proline, the last feature, is in the hundreds to thousands.
bn = model.layers[0]
moving_mean = keras.ops.convert_to_numpy(bn.moving_mean)
print(f"updates: {int(model.optimizer.iterations)}")
print(f"proline: mean {x[:, 12].mean():.0f}, moving mean {moving_mean[12]:.0f}")
# --8<-- [end:why]

# --8<-- [start:fixes]
# 1. A lower momentum: each update keeps 90% of the old value, not 99%.
low_momentum = train(momentum=0.9)
# 2. More updates: batches of 8 give four times as many per epoch.
more_updates = train(batch_size=8)
# 3. Re-estimate the moving statistics of the trained model. With momentum 0,
# one training-mode call on the whole training set replaces them with its
# mean and variance; a call computes no gradient and changes no other weight.
norms = [
    layer
    for layer in model.layers
    if isinstance(layer, keras.layers.BatchNormalization)
]
for layer in norms:
    layer.momentum = 0.0
model(x, training=True)
for layer in norms:
    layer.momentum = 0.99  # the layer's setting again, for any later training
for name, fixed in [
    ("momentum=0.9", low_momentum),
    ("batch_size=8", more_updates),
    ("re-estimated", model),
]:
    print(f"{name}: predict {accuracy(fixed):.0%}")
# --8<-- [end:fixes]
