"""BatchNormalization as the first layer: the network standardises its own inputs.

Run it with `python snippets/batch-normalization/on_inputs.py`.
"""

# --8<-- [start:data]
import keras
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(42)  # seeds Python, NumPy and the backend at once

# 569 tumours, 30 features on very different scales (cell areas in the
# hundreds, smoothness below 1), target: malignant (0) or benign (1).
# The features stay unscaled.
x, y = load_breast_cancer(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, random_state=42, stratify=y
)
# --8<-- [end:data]

# --8<-- [start:model]
model = keras.Sequential(
    [
        keras.Input(shape=(30,)),
        # Standardises each raw feature with the statistics of the current
        # batch while training, and with its moving averages at inference.
        keras.layers.BatchNormalization(),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dense(1),  # one logit: a binary classifier
    ]
)
# --8<-- [end:model]

# --8<-- [start:train]
model.compile(
    optimizer="adam",
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)],  # logit 0 = p 0.5
)
# Each batch moves the moving statistics 1% of the way towards its own
# (momentum 0.99): their initial values (mean 0, variance 1) fade, never vanish.
history = model.fit(x_train, y_train, epochs=15, batch_size=16, verbose=0)
# evaluate() runs in inference mode: BatchNormalization uses moving statistics.
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}")
# --8<-- [end:train]
