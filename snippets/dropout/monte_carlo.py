"""Monte Carlo dropout: keep dropout on at prediction time to estimate uncertainty.

Run it with `python snippets/dropout/monte_carlo.py`.
"""

import keras
import numpy as np
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


# --8<-- [start:layer]
class MCDropout(keras.layers.Dropout):
    """Dropout that stays on at inference, and only dropout: other layers,
    such as BatchNormalization, keep running in inference mode."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


# --8<-- [end:layer]

# --8<-- [start:model]
model = keras.Sequential(
    [
        keras.Input(shape=(10,)),
        keras.layers.Dense(64, use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        MCDropout(0.3),
        keras.layers.Dense(1),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
history = model.fit(x_train, y_train, epochs=15, batch_size=16, verbose=0)
# --8<-- [end:model]

# --8<-- [start:predict]
# 100 stochastic forward passes: each one drops a different 30% of the units.
# A plain call runs in inference mode; only MCDropout ignores that.
samples = np.stack(
    [keras.ops.convert_to_numpy(model(x_test))[:, 0] for _ in range(100)]
)
mean, spread = samples.mean(axis=0), samples.std(axis=0)
for i in range(3):
    print(f"patient {i}: {mean[i]:.0f} ± {spread[i]:.0f} (true {y_test[i]:.0f})")
# How many true scores fall within two spreads of the mean prediction?
within = np.abs(y_test - mean) <= 2 * spread
print(f"within ±2 spreads: {within.mean():.0%} of the test patients")
# --8<-- [end:predict]

# --8<-- [start:noise]
# The spread leaves out the noise in the targets. A simple estimate of its
# variance: the mean squared error of the MC mean on the training data.
train_samples = np.stack(
    [keras.ops.convert_to_numpy(model(x_train))[:, 0] for _ in range(100)]
)
noise_variance = np.mean((y_train - train_samples.mean(axis=0)) ** 2)
total = np.sqrt(spread**2 + noise_variance)
within_total = np.abs(y_test - mean) <= 2 * total
print(f"noise: ± {np.sqrt(noise_variance):.0f}")
print(f"within ±2 total deviations: {within_total.mean():.0%} of the test patients")
# --8<-- [end:noise]
