"""Dense, then BatchNormalization, then the activation, then Dropout.

Run it with `python snippets/together/usual_order.py`.
"""

# --8<-- [start:data]
import keras
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

keras.utils.set_random_seed(42)

x, y = load_breast_cancer(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, random_state=42, stratify=y
)
# The features span very different ranges: standardise them with statistics
# of the training split. BatchNormalization below acts on the hidden layer.
scaler = StandardScaler().fit(x_train)
x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
# --8<-- [end:data]

# --8<-- [start:model]
model = keras.Sequential(
    [
        keras.Input(shape=(30,)),
        keras.layers.Dense(256, use_bias=False),  # linear part, no bias
        keras.layers.BatchNormalization(),  # standardise the pre-activations
        keras.layers.Activation("relu"),  # non-linearity
        keras.layers.Dropout(0.3),  # regularise what the next layer sees
        keras.layers.Dense(1),  # one logit
    ]
)
# --8<-- [end:model]

# --8<-- [start:train]
model.compile(
    optimizer="adam",
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)],
)
history = model.fit(x_train, y_train, epochs=15, batch_size=16, verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}")
# --8<-- [end:train]
