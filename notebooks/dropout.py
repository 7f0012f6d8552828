# %% [markdown]
# # Dropout, step by step
#
# This notebook trains a small regression model with `keras.layers.Dropout`
# after its hidden layer, the most common placement, and then measures what the
# layer does while training. The data, the model and the training are the
# code of the "After the hidden layer" script of the site's Dropout page.
#
# **Run it yourself.** On the site, download the notebook with the download
# button at the top of the page, then either
#
# - open it in Jupyter: `jupyter lab dropout.ipynb`, in an environment with
#   Keras 3, TensorFlow, scikit-learn and matplotlib
#   (`pip install keras tensorflow scikit-learn matplotlib`); or
# - open it in Google Colab: *File > Upload notebook*, then choose the file.
#   Colab has everything it needs installed.
#
# Nothing is downloaded while it runs: the data ships with scikit-learn.

# %% [markdown]
# ## The data
#
# Scikit-learn's diabetes dataset: ten measurements per patient predict a
# score of disease progression one year later. The features are standardised
# with statistics of the training split only.

# %%
# --8<-- "snippets/dropout/after_hidden.py:data"
print("training set:", x_train.shape, " test set:", x_test.shape)

# %% [markdown]
# ## The model
#
# `Dropout` sits after the hidden layer's activation, so it zeroes hidden
# activations, never the output. It has no weights: the summary lists it with
# 0 parameters.

# %%
# --8<-- "snippets/dropout/after_hidden.py:model"
model.summary()

# %% [markdown]
# ## Train and evaluate
#
# `fit` runs the layer in training mode; `evaluate` runs it in inference mode,
# where it passes every activation through unchanged.

# %%
# --8<-- "snippets/dropout/after_hidden.py:train"

# %% [markdown]
# ## The loss that `fit` reports is measured with dropout on
#
# Every epoch's loss in `history` is computed in training mode, with each
# hidden activation zeroed with probability 0.3. Here the trained model scores
# the training data twice: in inference mode (`predict`), and in training mode
# (`model(x, training=True)`) with 50 different random masks.
#
# The output layer is linear in the activations that dropout scales, and the
# scaling keeps their expected value. So the training-mode prediction is, on
# average, the inference-mode prediction, and its squared error is on average
# the inference-mode error *plus* the variance that the random masks add.

# %%
import numpy as np


def mse(predictions):
    return float(np.mean((y_train - np.ravel(predictions)) ** 2))


inference_mse = mse(model.predict(x_train, verbose=0))
training_mse = [
    mse(keras.ops.convert_to_numpy(model(x_train, training=True))) for _ in range(50)
]
print(f"inference mode:               MSE {inference_mse:.0f}")
print(f"training mode, 50 masks: mean MSE {np.mean(training_mse):.0f}")
assert np.mean(training_mse) > inference_mse

# %% [markdown]
# ## Training curve
#
# The loss `fit` reported after each epoch (top), and how the training-mode
# losses of the trained model spread around their mean (bottom). Both sit above
# the inference-mode loss of the same model on the same data.

# %%
import matplotlib.pyplot as plt

figure, (curve, spread) = plt.subplots(2, 1, figsize=(6.4, 6.4))
epochs = np.arange(1, len(history.history["loss"]) + 1)
curve.plot(epochs, history.history["loss"], marker=".", label="fit, training mode")
curve.axhline(inference_mse, color="C3", label="trained model, inference mode")
curve.set(title="Training curve", xlabel="epoch", ylabel="MSE", yscale="log")
curve.legend()
spread.hist(training_mse, bins=12, color="C0", label="training mode, 50 masks")
spread.axvline(inference_mse, color="C3", linewidth=2, label="inference mode")
spread.set(title="Trained model, training set", xlabel="MSE", ylabel="masks")
spread.set_ylim(top=spread.get_ylim()[1] * 1.4)  # room for the legend
spread.legend(loc="upper right")
figure.tight_layout()
plt.show()
