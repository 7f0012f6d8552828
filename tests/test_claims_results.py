"""The claims of the results page (docs/results.md), each checked against
the results file that the page is rendered from."""

import keras
import numpy as np
import pytest

import docsite
from experiments import run
from experiments.results import read
from experiments.variants import build

RESULTS = docsite.ROOT / "docs" / "data" / "results.json"


@pytest.fixture(scope="module")
def results() -> dict:
    return read(RESULTS)  # checked against the schema and for consistency


def stats(results, experiment, dataset, variant, score="val_loss") -> dict:
    return results["summary"][experiment][dataset][variant][score]


def mean(results, *cell, score="val_loss") -> float:
    return stats(results, *cell, score=score)["mean"]


def lower_per_seed(results, cell, other, score="val_loss") -> list[bool]:
    """Seed by seed (each seed: the same split for every variant), whether
    ``cell`` scored below ``other``."""
    a, b = stats(results, *cell, score=score), stats(results, *other, score=score)
    return [x < y for x, y in zip(a["values"], b["values"], strict=True)]


def no_clear_difference(results, cell, other, score="val_loss") -> bool:
    """The means differ by less than the larger standard deviation."""
    a, b = stats(results, *cell, score=score), stats(results, *other, score=score)
    return abs(a["mean"] - b["mean"]) < max(a["std"], b["std"])


def difference(results, name) -> dict:
    """A paired comparison the page reports: per-seed differences a - b, their
    mean and 95 % interval, over all seeds."""
    d = results["differences"][name]
    assert d["n"] == len(results["config"]["seeds"]), name
    return d


def includes_zero(results, name) -> bool:
    d = difference(results, name)
    return d["low"] < 0 < d["high"]


DIABETES = ("placements", "diabetes")
CANCER = ("placements", "breast_cancer_raw")
SCALED = ("scaling", "breast_cancer_scaled")


@pytest.mark.claim("results/dropout-lowers-final-loss")
def test_dropout_lowers_the_final_loss_in_every_seed(results):
    for variant in ("dropout_inputs", "dropout_hidden"):
        assert all(
            lower_per_seed(results, (*DIABETES, variant), (*DIABETES, "baseline"))
        )
        assert difference(results, f"diabetes_{variant}")["high"] < 0


@pytest.mark.claim("results/input-dropout-beats-hidden-dropout")
def test_input_dropout_ends_lower_than_hidden_dropout(results):
    assert mean(results, *DIABETES, "dropout_inputs") < mean(
        results, *DIABETES, "dropout_hidden"
    )
    inputs, hidden = (*DIABETES, "dropout_inputs"), (*DIABETES, "dropout_hidden")
    assert all(lower_per_seed(results, inputs, hidden))  # "in every seed"
    assert difference(results, "diabetes_dropout_inputs_vs_hidden")["high"] < 0


@pytest.mark.claim("results/dropout-delays-overfitting")
def test_dropout_hardly_changes_the_best_validation_loss(results):
    baseline = (*DIABETES, "baseline")
    for variant in ("dropout_inputs", "dropout_hidden"):
        cell = (*DIABETES, variant)
        assert no_clear_difference(results, cell, baseline, score="best_val_loss")
        assert not no_clear_difference(results, cell, baseline)  # the final does
        assert includes_zero(results, f"diabetes_{variant}_best")
    # without dropout, the validation loss is lowest within the first epochs
    assert stats(results, *baseline, score="best_epoch")["mean"] < 10
    # ... while the loss on the training split keeps falling
    for r in results["runs"]:
        if (r["experiment"], r["dataset"], r["variant"]) == baseline:
            train = r["history"]["train_loss"]
            assert train[-1] < train[r["final"]["best_epoch"] - 1] / 2

    def rise(variant):  # from the lowest validation loss to the last one
        return mean(results, *DIABETES, variant) - mean(
            results, *DIABETES, variant, score="best_val_loss"
        )

    best_without = mean(results, *DIABETES, "baseline", score="best_val_loss")
    for variant in ("dropout_inputs", "dropout_hidden"):
        assert rise(variant) < rise("baseline")
        # early stopping without dropout beats either dropout model's end
        assert best_without < mean(results, *DIABETES, variant)


@pytest.mark.claim("results/separate-activation-is-identical")
def test_a_separate_activation_layer_changes_no_number(results):
    runs = {
        (r["experiment"], r["dataset"], r["variant"], r["seed"]): r
        for r in results["runs"]
    }
    pairs = [
        (r, runs[(*key[:2], "dropout_inputs_activation", key[3])])
        for key, r in runs.items()
        if key[2] == "dropout_inputs"
    ]
    assert len(pairs) == 2 * len(results["config"]["seeds"])
    for fused, separate in pairs:
        assert fused["history"] == separate["history"]


@pytest.mark.claim("results/dropout-no-clear-difference-on-cancer")
def test_dropout_makes_no_clear_difference_to_cancer_accuracy(results):
    for variant in ("dropout_inputs", "dropout_hidden"):
        assert no_clear_difference(
            results, (*CANCER, variant), (*CANCER, "baseline"), score="val_accuracy"
        )
        assert includes_zero(results, f"cancer_{variant}")


@pytest.mark.claim("results/hidden-dropout-raises-cancer-loss")
def test_hidden_dropout_raises_the_cancer_loss(results):
    # "more than doubled the mean validation loss"
    assert mean(results, *CANCER, "dropout_hidden") > 2 * mean(
        results, *CANCER, "baseline"
    )
    higher = lower_per_seed(results, (*CANCER, "baseline"), (*CANCER, "dropout_hidden"))
    assert len(higher) / 2 < sum(higher) < len(higher)  # in most seeds, not all
    # "these seeds do not rule out that the loss did not change"
    assert includes_zero(results, "cancer_dropout_hidden_loss")


@pytest.mark.claim("results/bn-on-inputs-matches-scaler")
def test_bn_on_unscaled_inputs_does_what_a_scaler_does(results):
    accuracy = {"score": "val_accuracy"}
    assert mean(results, *CANCER, "bn_inputs", **accuracy) > mean(
        results, *CANCER, "baseline", **accuracy
    )
    assert not no_clear_difference(
        results, (*CANCER, "bn_inputs"), (*CANCER, "baseline"), **accuracy
    )
    assert no_clear_difference(
        results, (*CANCER, "bn_inputs"), (*SCALED, "baseline"), **accuracy
    )
    # higher in most seeds, but the interval does not pin the gain down
    assert (
        difference(results, "cancer_bn_inputs")["below"]
        < len(results["config"]["seeds"]) / 2
    )
    assert includes_zero(results, "cancer_bn_inputs")
    assert includes_zero(results, "cancer_bn_inputs_vs_scaler")


@pytest.mark.claim("results/bn-on-scaled-inputs-lowers-loss")
def test_bn_on_scaled_inputs_lowers_the_loss_not_the_accuracy(results):
    assert all(lower_per_seed(results, (*SCALED, "bn_inputs"), (*SCALED, "baseline")))
    assert no_clear_difference(
        results, (*SCALED, "bn_inputs"), (*SCALED, "baseline"), score="val_accuracy"
    )
    assert stats(results, *SCALED, "baseline", score="train_loss")["mean"] < 0.01
    assert difference(results, "scaled_bn_inputs_loss")["high"] < 0
    assert includes_zero(results, "scaled_bn_inputs")


@pytest.mark.claim("results/bn-first-beats-later-bn-on-raw")
def test_bn_first_beats_bn_after_the_first_dense_on_raw_features(results):
    first = mean(results, *CANCER, "bn_inputs", score="val_accuracy")
    for variant in ("bn_after_activation", "bn_before_activation"):
        assert mean(results, *CANCER, variant, score="val_accuracy") < first
    seeds = len(results["config"]["seeds"])
    after = difference(results, "cancer_bn_after_activation_vs_first")
    assert seeds / 2 < after["below"]  # "in most seeds after it"
    before = difference(results, "cancer_bn_before_activation_vs_first")
    assert before["below"] == seeds and before["high"] < 0  # "in every seed"


@pytest.mark.claim("results/bn-no-clear-difference-on-diabetes")
def test_no_bn_placement_is_clearly_better_on_diabetes(results):
    for variant in ("bn_inputs", "bn_after_activation", "bn_before_activation"):
        assert no_clear_difference(
            results, (*DIABETES, variant), (*DIABETES, "baseline")
        )
        assert includes_zero(results, f"diabetes_{variant}")


@pytest.mark.claim("results/bn-after-dense-worse-best-on-diabetes")
def test_bn_after_the_first_dense_reaches_a_worse_best_later(results):
    baseline = (*DIABETES, "baseline")
    best = {"score": "best_val_loss"}
    epochs = results["config"]["datasets"]["diabetes"]["epochs"]
    for variant in ("bn_after_activation", "bn_before_activation"):
        cell = (*DIABETES, variant)
        assert mean(results, *cell, **best) > mean(results, *baseline, **best)
        assert not no_clear_difference(results, cell, baseline, **best)
        assert stats(results, *cell, score="best_epoch")["mean"] > epochs / 2
        worse = difference(results, f"diabetes_{variant}_best")
        assert worse["below"] == 0 and worse["low"] > 0  # higher in every seed
    assert stats(results, *baseline, score="best_epoch")["mean"] < epochs / 4


@pytest.mark.claim("results/bn-helps-adam-high-lr")
def test_bn_keeps_adam_at_a_high_learning_rate_on_track(results):
    high = ("high_lr_adam", "diabetes")
    assert all(
        lower_per_seed(results, (*high, "bn_before_activation"), (*high, "baseline"))
    )
    # the high rate hurt the model without BN, and not the one with it
    assert not no_clear_difference(
        results, (*high, "baseline"), (*DIABETES, "baseline")
    )
    assert no_clear_difference(
        results, (*high, "bn_before_activation"), (*DIABETES, "bn_before_activation")
    )
    assert difference(results, "adam_high_lr_bn")["high"] < 0
    assert difference(results, "adam_high_lr_baseline_vs_default")["low"] > 0
    assert includes_zero(results, "adam_high_lr_bn_vs_default")


@pytest.mark.claim("results/bn-diverges-sgd-high-lr")
def test_bn_diverges_with_sgd_at_a_high_learning_rate(results):
    sgd = [r for r in results["runs"] if r["experiment"] == "high_lr_sgd"]
    with_bn = [r for r in sgd if r["variant"] == "bn_before_activation"]
    without = [r for r in sgd if r["variant"] == "baseline"]
    assert len(with_bn) == len(results["config"]["seeds"])
    assert all(r["diverged"] and r["epochs_completed"] == 1 for r in with_bn)
    assert not any(r["diverged"] for r in without)


@pytest.mark.claim("results/slow-output-layer-trains-with-sgd")
def test_bn_trains_with_sgd_when_the_output_layer_is_slower(results):
    slow = "bn_before_activation_slow_output"
    factor = results["config"]["variants"][slow]["output_learning_rate"]
    assert factor < 1
    runs = [
        r
        for r in results["runs"]
        if r["experiment"] == "high_lr_sgd" and r["variant"] == slow
    ]
    assert len(runs) == len(results["config"]["seeds"])
    assert not any(r["diverged"] for r in runs)
    d = difference(results, "sgd_slow_output_vs_baseline")
    assert d["below"] == len(runs) and d["high"] < 0  # lower in every seed


@pytest.mark.claim("results/bn-enlarges-output-layer-inputs")
def test_bn_makes_the_output_layer_inputs_larger_at_initialisation():
    x_train = run.load("diabetes", seed=0)[0][:32]
    mean_square = {}
    for variant in ("baseline", "bn_before_activation"):
        keras.utils.set_random_seed(0)
        model = build(
            variant, x_train.shape[1:], run.DATASETS["diabetes"].width, run.RATE
        )
        hidden = x_train
        for layer in model.layers[:-1]:  # everything before the output unit
            hidden = layer(hidden, training=True)
        mean_square[variant] = float(np.mean(keras.ops.convert_to_numpy(hidden) ** 2))
    assert mean_square["bn_before_activation"] > 10 * mean_square["baseline"]


@pytest.mark.claim("results/dropout-before-bn-hurts-cancer")
def test_dropout_before_bn_is_the_worst_order_in_every_seed(results):
    shifted = (*CANCER, "dropout_then_bn")
    for variant in ("bn_after_activation", "bn_relu_dropout"):
        assert all(
            lower_per_seed(results, shifted, (*CANCER, variant), score="val_accuracy")
        )
    assert difference(results, "cancer_dropout_then_bn")["high"] < 0
    assert difference(results, "cancer_dropout_then_bn_vs_usual")["high"] < 0


@pytest.mark.claim("results/variance-shift-gap")
def test_dropout_before_bn_breaks_inference_on_the_training_split(results):
    def ratio(variant):  # inference-mode over training-mode training loss
        return mean(results, *CANCER, variant, score="train_loss") / mean(
            results, *CANCER, variant, score="loss"
        )

    assert ratio("dropout_then_bn") > 2
    assert ratio("dropout_then_bn") > 2 * ratio("bn_after_activation")
    assert ratio("dropout_then_bn") > 2 * ratio("bn_relu_dropout")

    def per_seed(variant):
        cell = results["summary"]["placements"]["breast_cancer_raw"][variant]
        return np.array(cell["train_loss"]["values"]) / cell["loss"]["values"]

    # "the highest of the three in every seed"
    for variant in ("bn_after_activation", "bn_relu_dropout"):
        assert all(per_seed("dropout_then_bn") > per_seed(variant))


@pytest.mark.claim("results/dropout-before-bn-harmless-scaled")
def test_dropout_before_bn_is_harmless_on_standardised_features(results):
    orders = ("orders_scaled", "breast_cancer_scaled")
    for variant in ("bn_after_activation", "bn_relu_dropout"):
        assert no_clear_difference(
            results,
            (*orders, "dropout_then_bn"),
            (*orders, variant),
            score="val_accuracy",
        )
    assert includes_zero(results, "scaled_dropout_then_bn")
    assert includes_zero(results, "scaled_dropout_then_bn_vs_usual")

    def ratio(variant):  # inference-mode over training-mode training loss
        return mean(results, *orders, variant, score="train_loss") / mean(
            results, *orders, variant, score="loss"
        )

    # "nor did the shift show": no higher than without dropout, below one
    assert ratio("dropout_then_bn") < 1
    assert ratio("dropout_then_bn") <= ratio("bn_after_activation")
    assert ratio("dropout_then_bn") <= ratio("bn_relu_dropout")


@pytest.mark.claim("results/dropout-before-bn-harmless-diabetes")
def test_dropout_before_bn_is_harmless_on_diabetes(results):
    assert no_clear_difference(
        results, (*DIABETES, "dropout_then_bn"), (*DIABETES, "bn_relu_dropout")
    )
    assert includes_zero(results, "diabetes_dropout_then_bn")


@pytest.mark.claim("results/usual-order-dropout-helps-diabetes")
def test_dropout_after_bn_and_relu(results):
    assert all(
        lower_per_seed(
            results, (*DIABETES, "bn_relu_dropout"), (*DIABETES, "bn_before_activation")
        )
    )
    assert no_clear_difference(
        results,
        (*CANCER, "bn_relu_dropout"),
        (*CANCER, "bn_before_activation"),
        score="val_accuracy",
    )
    assert difference(results, "diabetes_usual_order_dropout")["high"] < 0
    assert includes_zero(results, "cancer_usual_order_dropout")


@pytest.mark.claim("results/paired-within-batch")
def test_every_paired_comparison_stays_within_one_batch(results):
    later = {
        experiment: index
        for index, batch in enumerate(results.get("merged", []), 1)
        for experiment in batch["experiments"]
    }
    for name, c in results["config"]["comparisons"].items():
        assert later.get(c["a"][0], 0) == later.get(c["b"][0], 0), name


@pytest.mark.claim("results/bn-scale-invariance")
def test_bn_output_ignores_the_scale_of_the_weights_before_it():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 10)).astype("float32")
    dense = keras.layers.Dense(32, use_bias=False)
    bn = keras.layers.BatchNormalization()
    before = keras.ops.convert_to_numpy(bn(dense(x), training=True))
    dense.kernel.assign(dense.kernel * 7.5)
    after = keras.ops.convert_to_numpy(bn(dense(x), training=True))
    np.testing.assert_allclose(after, before, atol=1e-2)  # epsilon aside
    assert np.abs(before).max() > 1  # not trivially zero


DIGITS = ("cnn", "digits")


def higher_every_seed(results, name) -> bool:
    """a - b above zero in every seed (each a value of the comparison)."""
    return all(value > 0 for value in difference(results, name)["values"])


def lower_every_seed(results, name) -> bool:
    return all(value < 0 for value in difference(results, name)["values"])


@pytest.mark.claim("results/cnn-baseline-overfits")
def test_the_digits_cnn_fits_its_training_images_almost_perfectly(results):
    baseline = (*DIGITS, "cnn_baseline")
    train_accuracy = mean(results, *baseline, score="train_accuracy")
    val_accuracy = mean(results, *baseline, score="val_accuracy")
    assert train_accuracy > 0.99 and train_accuracy > val_accuracy + 0.02
    # the training loss well below the validation loss, in every seed
    train = stats(results, *baseline, score="train_loss")["values"]
    val = stats(results, *baseline)["values"]
    assert all(t < v / 2 for t, v in zip(train, val, strict=True))


@pytest.mark.claim("results/cnn-still-improving")
def test_every_digits_cnn_was_still_improving_at_the_end(results):
    epochs = results["config"]["datasets"]["digits"]["epochs"]
    best = [
        stats(results, *DIGITS, v, score="best_epoch")["mean"]
        for v in results["config"]["experiments"]["cnn"]["variants"]
    ]
    # "at epoch {floor(min)} or later, of {epochs}": within its last tenth
    assert min(best) >= 0.9 * epochs
    # "had not started to climb": the baseline ended close to its lowest
    baseline = (*DIGITS, "cnn_baseline")
    final, lowest = (
        mean(results, *baseline),
        mean(results, *baseline, score="best_val_loss"),
    )
    assert final - lowest < 0.05 * final


@pytest.mark.claim("results/cnn-bn-before-helps")
def test_bn_before_each_activation_helps_the_digits_cnn(results):
    assert higher_every_seed(results, "digits_bn_before")
    assert difference(results, "digits_bn_before")["low"] > 0
    assert lower_every_seed(results, "digits_bn_before_loss")
    assert difference(results, "digits_bn_before_loss")["high"] < 0
    # "did best": the highest mean accuracy and the lowest mean loss
    variants = results["config"]["experiments"]["cnn"]["variants"]
    accuracy = {v: mean(results, *DIGITS, v, score="val_accuracy") for v in variants}
    loss = {v: mean(results, *DIGITS, v) for v in variants}
    assert max(accuracy, key=accuracy.get) == "cnn_bn_before_activation"
    assert min(loss, key=loss.get) == "cnn_bn_before_activation"
    # "Dropout after each convolution did not help there": see
    # test_dropout_after_each_convolution_raises_the_digits_loss


@pytest.mark.claim("results/cnn-bn-after-helps")
def test_bn_after_each_activation_helps_the_digits_cnn_less(results):
    after = difference(results, "digits_bn_after")
    assert higher_every_seed(results, "digits_bn_after") and after["low"] > 0
    assert after["mean"] < difference(results, "digits_bn_before")["mean"]
    assert lower_every_seed(results, "digits_bn_after_loss")
    assert includes_zero(results, "digits_bn_after_loss")  # "reaches zero"


@pytest.mark.claim("results/cnn-bn-before-vs-after")
def test_bn_before_the_activation_ends_lower_than_after_on_digits(results):
    assert lower_every_seed(results, "digits_bn_before_vs_after_loss")
    assert difference(results, "digits_bn_before_vs_after_loss")["high"] < 0
    assert higher_every_seed(results, "digits_bn_before_vs_after")
    assert includes_zero(results, "digits_bn_before_vs_after")
    # "in some seeds by a single validation image"
    spec = results["config"]["datasets"]["digits"]
    validation = spec["shape"][0] - spec["train_size"]
    images = [
        round(value * validation)
        for value in difference(results, "digits_bn_before_vs_after")["values"]
    ]
    assert images.count(1) >= 2


@pytest.mark.claim("results/cnn-dropout-raises-loss")
def test_dropout_after_each_convolution_raises_the_digits_loss(results):
    assert higher_every_seed(results, "digits_dropout_loss")
    assert difference(results, "digits_dropout_loss")["low"] > 0
    assert includes_zero(results, "digits_dropout")  # "about where it was"


@pytest.mark.claim("results/cnn-spatial-dropout-worse")
def test_spatial_dropout_does_worse_than_dropout_on_digits(results):
    assert lower_every_seed(results, "digits_spatial_dropout")
    assert difference(results, "digits_spatial_dropout")["high"] < 0
    assert difference(results, "digits_spatial_dropout_loss")["low"] > 0
    assert higher_every_seed(results, "digits_dropout_vs_spatial")
    assert difference(results, "digits_dropout_vs_spatial")["low"] > 0
    assert includes_zero(results, "digits_dropout_vs_spatial_loss")  # "alike"


@pytest.mark.claim("results/cnn-dropout-pooling-no-clear-difference")
def test_dropout_before_or_after_pooling_makes_no_clear_difference(results):
    assert includes_zero(results, "digits_dropout_before_vs_after_pooling")
    assert includes_zero(results, "digits_dropout_before_vs_after_pooling_loss")


@pytest.mark.claim("results/cnn-head-dropout-lowers-loss")
def test_dropout_before_the_output_layer_lowers_the_digits_loss(results):
    assert lower_every_seed(results, "digits_head_dropout_loss")
    assert difference(results, "digits_head_dropout_loss")["high"] < 0
    assert includes_zero(results, "digits_head_dropout")
    # "the only dropout placement here whose mean loss ended below" no
    # regularisation's
    without = mean(results, *DIGITS, "cnn_baseline")
    below = {
        v
        for v in results["config"]["experiments"]["cnn"]["variants"]
        if "dropout" in v and mean(results, *DIGITS, v) < without
    }
    assert below == {"cnn_head_dropout"}
