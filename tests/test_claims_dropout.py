"""The claims of docs/dropout.md, one test each."""

import keras
import numpy as np
import pytest

import docsite
from docsite import ROOT, record

N = 1_000_000  # elements per measurement
RATE = 0.3


def as_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


@pytest.fixture
def x():
    return np.random.default_rng(0).uniform(0.5, 1.5, size=(N,)).astype("float32")


@pytest.fixture
def dropped(x):
    keras.utils.set_random_seed(0)
    return as_numpy(keras.layers.Dropout(RATE)(x, training=True))


@pytest.mark.claim("dropout/zero-fraction")
def test_zero_fraction(dropped):
    fraction = float(np.mean(dropped == 0))
    tolerance = 4 * np.sqrt(RATE * (1 - RATE) / N)  # 4 binomial standard deviations
    assert abs(fraction - RATE) < tolerance
    record("dropout", "zero_fraction", fraction)


@pytest.mark.claim("dropout/kept-scaled")
def test_kept_values_scaled(x, dropped):
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], x[kept] / (1 - RATE), rtol=1e-6)
    # Exactly: TensorFlow multiplies by the factor rounded to float32.
    factor = np.float32(1) / np.float32(1 - RATE)
    np.testing.assert_array_equal(dropped[kept], x[kept] * factor)


@pytest.mark.claim("dropout/mean-preserved")
def test_mean_preserved(x, dropped):
    error = abs(float(dropped.mean() / x.mean()) - 1)
    assert error < 0.005
    record("dropout", "mean_relative_error", error)


@pytest.mark.claim("dropout/identity-at-inference")
def test_identity_at_inference(x):
    layer = keras.layers.Dropout(RATE)
    np.testing.assert_array_equal(as_numpy(layer(x)), x)
    np.testing.assert_array_equal(as_numpy(layer(x, training=False)), x)


@pytest.mark.claim("dropout/no-weights")
def test_no_weights(x):
    layer = keras.layers.Dropout(RATE)
    layer(x[:10], training=True)
    assert layer.weights == []
    no_op = keras.layers.Dropout(0.0)
    np.testing.assert_array_equal(as_numpy(no_op(x, training=True)), x)


@pytest.mark.claim("dropout/fused-activation-identical")
def test_fused_and_separate_activation_identical():
    fused = docsite.run_snippet(ROOT / "snippets/dropout/on_inputs.py")
    separate = docsite.run_snippet(
        ROOT / "snippets/dropout/on_inputs_activation_layer.py"
    )
    np.testing.assert_allclose(
        fused["model"].predict(fused["x_test"], verbose=0),
        separate["model"].predict(separate["x_test"], verbose=0),
        rtol=1e-5,
    )
    assert fused["test_mae"] == pytest.approx(separate["test_mae"], rel=1e-5)


@pytest.mark.claim("dropout/evaluate-deterministic")
def test_evaluate_deterministic():
    script = docsite.run_snippet(ROOT / "snippets/dropout/on_inputs.py")
    model, x, y = script["model"], script["x_test"], script["y_test"]
    assert model.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    first = as_numpy(model(x, training=True))
    second = as_numpy(model(x, training=True))
    assert not np.allclose(first, second)


@pytest.mark.claim("dropout/noise-shape-shares-mask")
def test_noise_shape_shares_mask():
    sequences = np.ones((64, 4, 3), dtype="float32")
    layer = keras.layers.Dropout(0.5, noise_shape=(None, 1, 3), seed=1)
    out = as_numpy(layer(sequences, training=True))
    # Along the time axis, every value equals the first time step's.
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1, :], out.shape))
    assert 0 < np.mean(out == 0) < 1


@pytest.mark.claim("dropout/seed-reproducible")
def test_seed_reproducible():
    x = np.ones((100, 10), dtype="float32")
    first, twin = keras.layers.Dropout(0.5, seed=7), keras.layers.Dropout(0.5, seed=7)
    mask = as_numpy(first(x, training=True))
    np.testing.assert_array_equal(mask, as_numpy(twin(x, training=True)))
    assert not np.array_equal(mask, as_numpy(first(x, training=True)))
    # set_random_seed seeds the layers created after it, not those before.
    keras.utils.set_random_seed(1)
    early = keras.layers.Dropout(0.5)
    masks = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        masks.append(as_numpy(keras.layers.Dropout(0.5)(x, training=True)))
    np.testing.assert_array_equal(masks[0], masks[1])
    keras.utils.set_random_seed(0)
    assert not np.array_equal(as_numpy(early(x, training=True)), masks[0])


RELATIVES = [
    keras.layers.SpatialDropout1D(RATE),
    keras.layers.SpatialDropout2D(RATE),
    keras.layers.SpatialDropout3D(RATE),
    keras.layers.GaussianDropout(RATE),
    keras.layers.AlphaDropout(RATE),
    keras.layers.GaussianNoise(0.1),
]


@pytest.mark.claim("dropout/relatives-identity-at-inference")
@pytest.mark.parametrize("layer", RELATIVES, ids=lambda layer: type(layer).__name__)
def test_relatives_identity_at_inference(layer):
    rank = {"SpatialDropout1D": 3, "SpatialDropout2D": 4, "SpatialDropout3D": 5}
    shape = (2, 3, 4, 5, 6)[: rank.get(type(layer).__name__, 2)]
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    np.testing.assert_array_equal(as_numpy(layer(x)), x)
    assert not np.array_equal(as_numpy(layer(x, training=True)), x)


@pytest.mark.claim("dropout/spatial-drops-channels")
def test_spatial_dropout_drops_whole_channels():
    maps = np.ones((16, 6, 6, 8), dtype="float32")
    out = as_numpy(keras.layers.SpatialDropout2D(0.5, seed=3)(maps, training=True))
    per_channel = out.reshape(16, 36, 8)
    # Each (example, channel) map is constant: all zero or all 1 / (1 - 0.5).
    np.testing.assert_array_equal(per_channel, per_channel[:, :1, :].repeat(36, axis=1))
    assert set(np.unique(out)) == {0.0, 2.0}


@pytest.mark.claim("dropout/gaussian-dropout-std")
def test_gaussian_dropout_std(x):
    keras.utils.set_random_seed(0)
    factor = as_numpy(keras.layers.GaussianDropout(RATE)(x, training=True)) / x
    expected = np.sqrt(RATE / (1 - RATE))
    assert float(factor.mean()) == pytest.approx(1.0, abs=0.005)
    assert float(factor.std()) == pytest.approx(expected, rel=0.01)
    record("dropout", "gaussian_dropout_std", float(factor.std()))


@pytest.mark.claim("dropout/alpha-dropout-keeps-moments")
def test_alpha_dropout_keeps_mean_and_variance():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(N,)).astype("float32")
    alpha = as_numpy(keras.layers.AlphaDropout(RATE)(x, training=True))
    plain = as_numpy(keras.layers.Dropout(RATE)(x, training=True))
    assert abs(float(alpha.mean())) < 0.01
    assert float(alpha.std()) == pytest.approx(1.0, abs=0.01)
    assert float(plain.std()) == pytest.approx(np.sqrt(1 / (1 - RATE)), abs=0.01)
    # Its constants assume mean 0 and variance 1: other inputs lose theirs.
    other = as_numpy(keras.layers.AlphaDropout(RATE)(2 + 3 * x, training=True))
    assert abs(float(other.mean()) - 2) > 0.1 and abs(float(other.std()) - 3) > 0.1


@pytest.mark.claim("dropout/gaussian-noise-std")
def test_gaussian_noise_std(x):
    keras.utils.set_random_seed(0)
    noise = as_numpy(keras.layers.GaussianNoise(0.2)(x, training=True)) - x
    assert abs(float(noise.mean())) < 0.002
    assert float(noise.std()) == pytest.approx(0.2, rel=0.01)


def small_bn_model(dropout):
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(8),
            keras.layers.BatchNormalization(),
            dropout,
            keras.layers.Dense(1),
        ]
    )


@pytest.mark.claim("dropout/training-true-updates-bn")
def test_training_true_updates_batch_normalization():
    model = small_bn_model(keras.layers.Dropout(0.5))
    bn = model.layers[1]
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(32, 4)).astype("float32")
    before = as_numpy(bn.moving_mean).copy()
    model(x, training=True)
    assert not np.allclose(as_numpy(bn.moving_mean), before)


@pytest.mark.claim("dropout/mc-dropout-layer")
def test_mc_dropout_layer():
    script = docsite.run_snippet(ROOT / "snippets/dropout/monte_carlo.py")
    model, x = script["model"], script["x_test"]
    bn = model.layers[1]
    assert isinstance(bn, keras.layers.BatchNormalization)
    before = as_numpy(bn.moving_mean).copy()
    first, second = as_numpy(model(x)), as_numpy(model(x))
    assert not np.allclose(first, second)  # dropout stays on...
    np.testing.assert_array_equal(as_numpy(bn.moving_mean), before)  # ...BN does not
    assert (script["spread"] > 0).all()


MC_SNIPPET = ROOT / "snippets/dropout/monte_carlo.py"


def rmse(y, prediction):
    return float(np.sqrt(np.mean((y - prediction) ** 2)))


@pytest.mark.claim("dropout/mc-spread-misses-noise")
def test_mc_spread_covers_about_half_the_targets():
    script = docsite.run_snippet(MC_SNIPPET)
    mean, spread, y = script["mean"], script["spread"], script["y_test"]
    coverage = float(np.mean(np.abs(y - mean) <= 2 * spread))
    np.testing.assert_array_equal(script["within"], np.abs(y - mean) <= 2 * spread)
    # Far from the 95% that two standard deviations of the errors would cover:
    # the spread is much smaller than the typical error.
    assert 0.3 < coverage < 0.7
    assert float(spread.mean()) < rmse(y, mean) / 2
    record("dropout", "mc_coverage", coverage)
    record("dropout", "mc_mean_spread", float(spread.mean()), digits=0)
    record("dropout", "mc_rmse", rmse(y, mean), digits=0)


def mc_samples(model, x, passes=100):
    return np.stack([as_numpy(model(x))[:, 0] for _ in range(passes)])


@pytest.mark.claim("dropout/mc-spread-grows-with-rate")
def test_mc_spread_grows_with_the_rate():
    script = docsite.run_snippet(MC_SNIPPET)
    x_train, y_train = script["x_train"], script["y_train"]
    x_test, y_test = script["x_test"], script["y_test"]
    # The snippet's recipe, with MCDropout(0.1) instead of 0.3.
    keras.utils.set_random_seed(42)
    model = keras.Sequential(
        [
            keras.Input(shape=(10,)),
            keras.layers.Dense(64, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            script["MCDropout"](0.1),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x_train, y_train, epochs=15, batch_size=16, verbose=0)
    samples = mc_samples(model, x_test)
    low_spread = float(samples.std(axis=0).mean())
    low_rmse = rmse(y_test, samples.mean(axis=0))
    spread, error = float(script["spread"].mean()), rmse(y_test, script["mean"])
    assert spread > 1.5 * low_spread  # the spread follows the rate...
    assert low_rmse == pytest.approx(error, rel=0.1)  # ...the error hardly does
    record("dropout", "mc_mean_spread_rate_01", low_spread, digits=0)
    record("dropout", "mc_rmse_rate_01", low_rmse, digits=0)


@pytest.mark.claim("dropout/mc-noise-term-coverage")
def test_mc_noise_term_restores_coverage():
    script = docsite.run_snippet(MC_SNIPPET)
    mean, spread, y = script["mean"], script["spread"], script["y_test"]
    noise_variance = float(script["noise_variance"])
    assert np.sqrt(noise_variance) > 2.5 * float(spread.mean())  # several times
    total = np.sqrt(spread**2 + noise_variance)
    coverage = float(np.mean(np.abs(y - mean) <= 2 * total))
    assert 0.9 < coverage < 0.99
    record("dropout", "mc_noise_coverage", coverage)
    record("dropout", "mc_noise_sd", float(np.sqrt(noise_variance)), digits=0)


@pytest.mark.claim("dropout/input-mask-per-example")
def test_input_dropout_masks_each_example_separately():
    script = docsite.run_snippet(ROOT / "snippets/dropout/on_inputs.py")
    layer = script["model"].layers[0]
    assert isinstance(layer, keras.layers.Dropout)
    x = np.ones((64, 10), dtype="float32")
    kept = as_numpy(layer(x, training=True)) != 0
    # Different examples of one batch get different subsets of the features.
    assert len({row.tobytes() for row in kept}) > 32
    assert 0.2 < 1 - kept.mean() < 0.4


@pytest.mark.claim("dropout/after-output-zeroes-predictions")
def test_dropout_after_the_output_zeroes_predictions():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(10,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, bias_initializer="ones"),
            keras.layers.Dropout(RATE),
        ]
    )
    x = np.random.default_rng(0).normal(size=(10_000, 10)).astype("float32")
    plain = as_numpy(model(x))
    trained = as_numpy(model(x, training=True))
    zeroed = trained == 0
    assert (plain != 0).all()
    tolerance = 4 * np.sqrt(RATE * (1 - RATE) / len(x))
    assert abs(float(zeroed.mean()) - RATE) < tolerance
    np.testing.assert_allclose(trained[~zeroed], plain[~zeroed] / (1 - RATE), rtol=1e-5)


@pytest.mark.claim("dropout/half-rate-on-twos")
def test_half_rate_on_twos():
    """Dropout(0.5) on rows of [2, 2, 2, 2]: unchanged at inference; in
    training, every value is 0 or 2 / (1 - 0.5) = 4."""
    x = np.full((1000, 4), 2.0, dtype="float32")
    layer = keras.layers.Dropout(0.5, seed=0)
    np.testing.assert_array_equal(as_numpy(layer(x)), x)
    out = as_numpy(layer(x, training=True))
    assert set(np.unique(out).tolist()) == {0.0, 4.0}


@pytest.mark.claim("dropout/spatial-same-as-noise-shape")
def test_mask_example_spatial_same_as_noise_shape():
    """The masks that the Dropout page draws: three layers of rate 0.5 and
    seed 0 on one example of ones, 4 time steps by 6 features."""
    x = np.ones((1, 4, 6), dtype="float32")
    layers = {
        "Dropout(0.5)": keras.layers.Dropout(0.5, seed=0),
        "SpatialDropout1D(0.5)": keras.layers.SpatialDropout1D(0.5, seed=0),
        "Dropout(0.5, noise_shape=(None, 1, 6))": keras.layers.Dropout(
            0.5, noise_shape=(None, 1, 6), seed=0
        ),
    }
    out = {name: as_numpy(layer(x, training=True))[0] for name, layer in layers.items()}
    element, spatial, shared = out.values()
    assert set(np.unique(element).tolist()) == {0.0, 2.0}  # zeroed, or 1 / (1 - 0.5)
    assert len({tuple(row) for row in element != 0}) > 1  # each step its own mask
    assert (spatial == spatial[:1]).all()  # a feature: zero at every step, or kept
    assert 0 < (spatial[0] == 0).sum() < 6
    np.testing.assert_array_equal(shared, spatial)  # same seed, same mask
    record(
        "dropout",
        "mask_example",
        [{"layer": name, "output": o.tolist()} for name, o in out.items()],
    )


# The explorable under "What the layer computes": every mask it can show.
EXPLORABLE_RATES = [round(0.1 * i, 1) for i in range(1, 10)]
EXPLORABLE_SHAPES = {
    "None": None,
    "(None, 1, 6)": (None, 1, 6),
    "(None, 4, 1)": (None, 4, 1),
}


@pytest.mark.claim("dropout/explorable-masks")
def test_explorable_masks_are_keras_masks():
    """For each rate and noise_shape, the masks that Dropout(rate,
    noise_shape=..., seed=0) draws in training mode for a batch of 8
    sequences of shape (4, 6) filled with ones; each mask is a string of
    24 cells, time step after time step, 1 where the value was kept."""
    ones = np.ones((8, 4, 6), dtype="float32")
    masks, scale = {}, {}
    for rate in EXPLORABLE_RATES:
        for label, shape in EXPLORABLE_SHAPES.items():
            layer = keras.layers.Dropout(rate, noise_shape=shape, seed=0)
            out = as_numpy(layer(ones, training=True))
            kept = out != 0
            # Every survivor is 1 / (1 - rate), rounded to float32.
            np.testing.assert_array_equal(
                out[kept], np.float32(1) / np.float32(1 - rate)
            )
            if shape == (None, 1, 6):  # one decision per feature, every time step
                assert (kept == kept[:, :1, :]).all()
            if shape == (None, 4, 1):  # one decision per time step, every feature
                assert (kept == kept[:, :, :1]).all()
            masks.setdefault(str(rate), {})[label] = [
                "".join("1" if k else "0" for k in mask.ravel()) for mask in kept
            ]
        scale[str(rate)] = round(float(np.float32(1) / np.float32(1 - rate)), 4)
    # Over every mask, about the fraction `rate` of the cells is zeroed.
    for rate in EXPLORABLE_RATES:
        cells = "".join(masks[str(rate)]["None"])
        assert abs(cells.count("0") / len(cells) - rate) < 0.15
    record(
        "dropout",
        "explorable_masks",
        {"shape": [4, 6], "seed": 0, "masks": masks, "scale": scale},
    )

    # The output's mean over all 8 masks, as far as it strays from the
    # input's mean, 1: with a mask per cell (24 decisions per mask), and with
    # a shared one (6 or 4 decisions per mask).
    def farthest(labels):
        return max(
            abs(scale[str(rate)] * cells.count("1") / len(cells) - 1)
            for rate in EXPLORABLE_RATES
            for label in labels
            for cells in ["".join(masks[str(rate)][label])]
        )

    own, shared = farthest(["None"]), farthest(["(None, 1, 6)", "(None, 4, 1)"])
    assert own < shared
    record("dropout", "explorable_mean_farthest", own, digits=2)
    record("dropout", "explorable_mean_farthest_shared", shared, digits=2)
