# %% [markdown]
# # Dropout and Batch Normalization together
#
# This notebook puts both layers in one hidden block, in a common order:
# `Dense` (without bias), then `BatchNormalization`, then the ReLU, then
# `Dropout`. It trains the model, then compares the two ways of calling it:
# `predict`, which always gives the same answer, and `model(x, training=True)`,
# which does not, and which also changes the model.
#
# **Run it yourself.** On the site, download the notebook with the download
# button at the top of the page, then either
#
# - open it in Jupyter: `jupyter lab dropout-and-batch-normalization.ipynb`, in
#   an environment with Keras 3, TensorFlow, scikit-learn and matplotlib
#   (`pip install keras tensorflow scikit-learn matplotlib`); or
# - open it in Google Colab: *File > Upload notebook*, then choose the file.
#   Colab has everything it needs installed.
#
# Nothing is downloaded while it runs: the data ships with scikit-learn.

# %% [markdown]
# ## The data
#
# The breast cancer dataset of the Batch Normalization page, features
# unscaled.

# %%
# --8<-- "snippets/batch-normalization/before_activation.py:data"
print("training set:", x_train.shape, " test set:", x_test.shape)

# %% [markdown]
# ## The model
#
# Batch normalization acts on the pre-activations, as in the original paper;
# dropout acts on the activations that the output layer sees.

# %%
model = keras.Sequential(
    [
        keras.Input(shape=(30,)),
        keras.layers.Dense(1024, use_bias=False),  # BN's beta replaces the bias
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(1),  # one logit: a binary classifier
    ]
)
model.summary()

# %% [markdown]
# ## Train and evaluate
#
# The same training as on the Batch Normalization page. Inside `fit`, both
# layers run in training mode; `evaluate` runs both in inference mode.

# %%
# --8<-- "snippets/batch-normalization/before_activation.py:train"

# %% [markdown]
# ## `predict` is deterministic
#
# In inference mode, `Dropout` passes its input through and
# `BatchNormalization` uses its moving statistics, which do not change: the
# same input always gives the same output.

# %%
import numpy as np


def same(a, b):
    return np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


batch_norm = model.layers[1]
sample = x_test[:8]
saved_weights = model.get_weights()  # to undo the next cell's side effect
before, again = model.predict(sample, verbose=0), model.predict(sample, verbose=0)
print("predict, twice: same output?", same(before, again))
assert same(before, again)

# %% [markdown]
# ## `model(x, training=True)` is not, and it changes the model
#
# `training=True` switches *both* layers to training mode. `Dropout` draws a
# new random mask on every call. `BatchNormalization` normalises with the mean
# and variance of the batch it is given (here, just these 8 examples) instead
# of its moving statistics, and in Keras 3 it **also updates its moving
# statistics** towards that batch, as it does in `fit`. A call meant only to
# look at the model in training mode changes what `predict` returns
# afterwards.

# %%
moving_mean = keras.ops.convert_to_numpy(batch_norm.moving_mean)
first, second = model(sample, training=True), model(sample, training=True)
after = model.predict(sample, verbose=0)
print("training=True, twice: same output?", same(first, second))
print("moving mean unchanged?", same(moving_mean, batch_norm.moving_mean))
print("predict: same output as before?", same(before, after))
assert not same(first, second) and not same(before, after)

model.set_weights(saved_weights)  # the moving statistics are weights too
restored = model.predict(sample, verbose=0)
print("weights restored; predict: same output as before?", same(before, restored))
assert same(before, restored)

# %% [markdown]
# ## Sampling dropout without touching the moving statistics
#
# To see how much dropout alone moves the predictions (Monte Carlo dropout),
# freeze the batch normalization layer first. With `trainable=False`, a Keras 3
# `BatchNormalization` layer runs in inference mode even when called with
# `training=True`, while `Dropout` still draws its masks. The plot shows 100
# such predictions for each of the 8 test examples, and the one `predict`
# gives. Where the draws fall on both sides of 0, dropout alone changes the
# predicted class.

# %%
import matplotlib.pyplot as plt

batch_norm.trainable = False
draws = np.stack(
    [keras.ops.convert_to_numpy(model(sample, training=True)) for _ in range(100)]
)[:, :, 0]
print("moving mean unchanged?", same(moving_mean, batch_norm.moving_mean))
assert same(moving_mean, batch_norm.moving_mean)

figure, axis = plt.subplots(figsize=(6.4, 3.6))
axis.boxplot(draws, showfliers=False)
axis.plot(range(1, 9), before[:, 0], "D", color="C3", label="predict")
axis.axhline(0, color="grey", linewidth=1)
axis.set(
    title="100 dropout masks per example, BatchNormalization frozen",
    xlabel="test example",
    ylabel="logit (above 0: benign)",
)
axis.legend()
figure.tight_layout()
plt.show()
