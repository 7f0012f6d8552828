# %% [markdown]
# # Batch Normalization, step by step
#
# This notebook trains a classifier whose first layer is
# `keras.layers.BatchNormalization`, on raw features of very different scales,
# and then looks at what the layer learned: its moving statistics. The data,
# the model and the training are the code that the site's Batch Normalization
# page shows, from the same script.
#
# **Run it yourself.** On the site, download the notebook with the download
# button at the top of the page, then either
#
# - open it in Jupyter: `jupyter lab batch-normalization.ipynb`, in an
#   environment with Keras 3, TensorFlow, scikit-learn and matplotlib
#   (`pip install keras tensorflow scikit-learn matplotlib`); or
# - open it in Google Colab: *File > Upload notebook*, then choose the file.
#   Colab has everything it needs installed.
#
# Nothing is downloaded while it runs: the data ships with scikit-learn.

# %% [markdown]
# ## The data
#
# Scikit-learn's breast cancer dataset: 30 measurements per tumour, left
# unscaled on purpose.

# %%
# --8<-- "snippets/batch-normalization/on_inputs.py:data"
print("training set:", x_train.shape, " test set:", x_test.shape)
print(f"feature means range from {x_train.mean(axis=0).min():.3g}", end=" ")
print(f"to {x_train.mean(axis=0).max():.3g}")

# %% [markdown]
# ## The model
#
# `BatchNormalization` comes first and standardises the raw features inside
# the model. For each of the 30 features it holds four weights: `gamma` and
# `beta`, which training learns, and the moving mean and variance, which it
# does not. The summary counts the latter as non-trainable parameters.

# %%
# --8<-- "snippets/batch-normalization/on_inputs.py:model"
model.summary()

# %% [markdown]
# ## Train and evaluate
#
# `fit` normalises each batch with that batch's own statistics and moves the
# moving statistics a step towards them; `evaluate` uses the moving
# statistics.

# %%
# --8<-- "snippets/batch-normalization/on_inputs.py:train"

# %% [markdown]
# ## What the moving statistics learned
#
# Each update keeps 99% of the old value (`momentum=0.99`), so after *n*
# updates the initial values, mean 0 and variance 1, still weigh `0.99 ** n`.
# Compare the layer's moving variance with each feature's variance over the
# training set, for the three features that vary least and the three that vary
# most.

# %%
import numpy as np

layer = model.layers[0]
updates = int(model.optimizer.iterations)
print(f"{updates} updates: the initial values still weigh {0.99**updates:.4f}")
mean, variance = x_train.mean(axis=0), x_train.var(axis=0)
moving_mean = keras.ops.convert_to_numpy(layer.moving_mean)
moving_variance = keras.ops.convert_to_numpy(layer.moving_variance)
names = load_breast_cancer().feature_names
print(f"{'feature':<24}{'variance':>12}{'moving variance':>17}")
for i in np.argsort(variance)[[0, 1, 2, -3, -2, -1]]:
    print(f"{names[i]:<24}{variance[i]:>12.3g}{moving_variance[i]:>17.3g}")

# %% [markdown]
# The features that vary most have moving statistics close to their own (a
# few percent lower: each update averages in a batch's biased variance, whose
# expected value is (*m* - 1) / *m* times the variance, for batches of *m*). The
# features that vary least keep a moving variance of about what is left of the
# initial 1, far more than their own: at inference, the layer divides them by
# a larger number than it did while training. The plots show all 30 features:
# points on the diagonal are statistics the layer has learned, and the dashed
# line is what is left of the initial variance.

# %%
import matplotlib.pyplot as plt

figure, axes = plt.subplots(2, 1, figsize=(6.4, 8.4))
initial = 0.99**updates  # what is left of the initial variance, 1
axes[1].axhline(initial, color="C3", linestyle="--", label="0.99 ** updates")
for axis, learned, actual, name in [
    (axes[0], moving_mean, mean, "mean"),
    (axes[1], moving_variance, variance, "variance"),
]:
    axis.loglog(actual, learned, "o", alpha=0.7)
    limits = [
        min(actual.min(), learned.min()) / 2,
        max(actual.max(), learned.max()) * 2,
    ]
    axis.plot(limits, limits, color="grey", linewidth=1, label="moving = actual")
    axis.set(
        title=f"Moving {name}, one point per feature",
        xlabel=f"{name} over the training set",
        ylabel=f"moving {name}",
    )
    axis.legend()
figure.tight_layout()
plt.show()
