"""A one-block transformer encoder with pre-norm, as most recent models
have it: each image of digits is a sequence of 8 rows, its tokens.

Run it with `python snippets/attention/pre_norm.py`.
"""

# --8<-- [start:data]
import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

keras.utils.set_random_seed(0)  # seeds Python, NumPy and the backend at once

# 1,797 images of 8 x 8 pixels: each row of 8 pixels is one token.
digits = load_digits()
x = digits.images.astype("float32") / 16.0  # shape (1797, 8, 8), values in [0, 1]
y = digits.target
# 1,344 images to train on, 42 full batches of 32 (one batch shape to compile),
# and the other 453 to test on.
x_train, x_test, y_train, y_test = train_test_split(
    x, y, train_size=1344, random_state=0, stratify=y
)
# --8<-- [end:data]


# --8<-- [start:positions]
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector to each position of a sequence."""

    def build(self, input_shape):
        length, width = input_shape[1], input_shape[2]
        self.embedding = keras.layers.Embedding(length, width)
        self.embedding.build((length,))

    def call(self, tokens):
        positions = keras.ops.arange(keras.ops.shape(tokens)[1])
        return tokens + self.embedding(positions)  # the same for every example


# --8<-- [end:positions]


# --8<-- [start:block]
def encoder_block(x, heads=4, width=32, hidden=64, rate=0.1):
    # Attention sub-layer: normalise its input, not the sum.
    normed = keras.layers.LayerNormalization()(x)
    attended = keras.layers.MultiHeadAttention(
        heads, key_dim=width // heads, dropout=rate
    )(normed, normed)
    x = x + keras.layers.Dropout(rate)(attended)  # the sum is left as it is
    # Feed-forward sub-layer, applied to each token on its own.
    normed = keras.layers.LayerNormalization()(x)
    fed = keras.layers.Dense(hidden, activation="relu")(normed)
    fed = keras.layers.Dense(width)(fed)
    return x + keras.layers.Dropout(rate)(fed)


# --8<-- [end:block]

# --8<-- [start:model]
inputs = keras.Input(shape=(8, 8))  # 8 tokens of 8 features
x = keras.layers.Dense(32)(inputs)  # project each token to the model width
x = PositionEmbedding()(x)
x = keras.layers.Dropout(0.1)(x)  # on the sum of tokens and positions
x = encoder_block(x)
x = keras.layers.LayerNormalization()(x)  # one more, after the stack
x = keras.layers.GlobalAveragePooling1D()(x)  # one vector per image
outputs = keras.layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)
# --8<-- [end:model]

# --8<-- [start:train]
model.compile(
    optimizer=keras.optimizers.Adam(3e-3),  # constant rate, no warm-up
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
history = model.fit(x_train, y_train, epochs=6, batch_size=32, verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}")
# --8<-- [end:train]
