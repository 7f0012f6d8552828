"""The experiments behind docs/results.md: the results file is valid and
comes from a full run, the figures are drawn from it as it stands, the page
shows them and types no number by hand, and the runner works end to end (in
smoke mode). The comparisons the page states: tests/test_claims_results.py."""

import re

import keras
import numpy as np
import pytest
import resultscheck
import tensorflow as tf

import docsite
from experiments import figures, run
from experiments.results import paired, read
from experiments.variants import SlowDense, build

RESULTS = docsite.ROOT / "docs" / "data" / "results.json"


def test_results_file_is_a_full_run():
    results = read(RESULTS)  # checked against the schema and for consistency
    assert results["mode"] == "full"
    assert len(results["config"]["seeds"]) >= 5
    assert len(results["config"]["experiments"]["placements"]["datasets"]) >= 2
    assert results["config"]["epochs_override"] is None
    for r in results["runs"]:
        epochs = results["config"]["datasets"][r["dataset"]]["epochs"]
        assert r["epochs_completed"] == epochs or r["diverged"]


def test_figures_are_drawn_from_the_results_file():
    problems = figures.stale()
    assert not problems, "\n".join(problems)


def test_every_figure_is_shown_with_alt_text():
    resultscheck.check_figures_shown()


def test_results_page_numbers_all_come_from_the_data():
    resultscheck.check_no_typed_numbers(docsite.ROOT / "docs" / "results.md")


def test_smoke_run(tmp_path, capsys):
    """`python -m experiments.run --smoke --jobs 1` (two epochs, one seed,
    the variants of run.SMOKE), run in this process, where TensorFlow is
    already imported."""
    committed = RESULTS.read_bytes()
    run.main(["--smoke", "--jobs", "1", "--output", str(tmp_path / "results.json")])
    assert RESULTS.read_bytes() == committed
    smoke = read(tmp_path / "results.json")  # every curve as long as epochs_override
    progress = re.findall(r"^\[\d+/\d+\] ", capsys.readouterr().out, flags=re.M)
    assert len(progress) == len(smoke["runs"])  # one line per run
    assert smoke["mode"] == "smoke"
    assert smoke["config"]["seeds"] == [0]
    assert smoke["config"]["epochs_override"] == 2
    assert list(smoke["config"]["datasets"]) == ["diabetes", "digits"]
    assert {(r["experiment"], r["variant"]) for r in smoke["runs"]} == {
        (name, variant) for name, variants in run.SMOKE.items() for variant in variants
    }
    setups = smoke["config"]["experiments"].values()
    assert {setup["optimizer"] for setup in setups} == {"adam", "sgd"}
    for r in smoke["runs"]:
        assert r["diverged"] == (None in r["history"]["val_loss"])
    # Dense(relu) and Dense + Activation(relu) are one function: with the same
    # seed, the two models train to the same numbers.
    curves = {
        r["variant"]: r["history"]
        for r in smoke["runs"]
        if r["experiment"] == "placements"
    }
    assert curves["dropout_inputs"] == curves["dropout_inputs_activation"]


def test_digits_load_as_images_in_a_stratified_split():
    """The runner's path for images: the digits as 8 x 8 x 1 images in
    [0, 1] with int32 labels, in a stratified split drawn by the seed."""
    spec = run.DATASETS["digits"]
    x_train, x_val, y_train, y_val = run.load("digits", seed=0)
    assert x_train.shape == (spec.train_size, *spec.input_shape)
    assert x_val.shape == (1797 - spec.train_size, *spec.input_shape)
    assert x_train.min() == 0 and x_train.max() == 1  # pixels 0 to 16
    assert y_train.dtype == y_val.dtype == np.int32
    counts = np.bincount(y_train, minlength=10)
    assert counts.max() - counts.min() <= 2  # stratified: about 512 / 10 each
    assert not np.array_equal(run.load("digits", seed=1)[0], x_train)


def test_every_variant_builds_on_each_of_its_datasets():
    """What the smoke run does not train: every variant's model, one output
    per class, the convolutional ones with the same convolutions."""
    for setup in run.EXPERIMENTS.values():
        for dataset in setup.datasets:
            spec = run.DATASETS[dataset]
            x_train = run.load(dataset, seed=0)[0]
            units = 10 if spec.task == "multiclass" else 1
            for variant in setup.variants:
                model = build(variant, x_train.shape[1:], spec.width, run.RATE, units)
                assert model.output_shape == (None, units), variant
                filters = [
                    layer.filters
                    for layer in model.layers
                    if isinstance(layer, keras.layers.Conv2D)
                ]
                assert filters in ([], [spec.width, 2 * spec.width]), variant


def test_paired_differences_and_their_t_interval():
    d = paired([1.0, 2.0, 3.0, 4.0, None], [0.0, 0.0, 0.0, 0.0, 1.0])
    # differences 1, 2, 3, 4: mean 2.5, variance 5/3; t(0.975, 3) = 3.18245
    assert (d["n"], d["below"], d["mean"]) == (4, 0, 2.5)
    half = 3.18245 * (5 / 3) ** 0.5 / 2
    assert (d["low"], d["high"]) == pytest.approx((2.5 - half, 2.5 + half), rel=1e-5)


def test_slow_output_layer_computes_what_dense_computes():
    """The ablation's output layer: Dense's function, a tenth of its gradient."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    dense, slow = keras.layers.Dense(1), SlowDense(1, 0.1)
    dense.build(x.shape)
    slow.build(x.shape)
    slow.set_weights(dense.get_weights())
    outputs, grads = [], []
    for layer in (dense, slow):
        with tf.GradientTape() as tape:
            outputs.append(layer(x))
            loss = tf.reduce_sum(outputs[-1] ** 2)
        grads.append(tape.gradient(loss, layer.trainable_weights))
    # atol: w * 0.1 + w * 0.9 rounds in the last bit
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-5, atol=1e-6)
    for full, small in zip(*grads, strict=True):
        np.testing.assert_allclose(small, 0.1 * full, rtol=1e-5)
