"""Train every variant of every experiment, and write one results file.

    python -m experiments.run                 # full run: docs/data/results.json
    python -m experiments.run --smoke --output /tmp/results.json
    python -m experiments.run --only scaling   # rerun one experiment, merge it in

Each run prints one line as it finishes. The file holds every run's
per-epoch curves and final scores, their mean and spread across seeds, the
configuration, the library versions and the machine; its format is
experiments/results.schema.json. The figures are drawn from it alone
(`python -m experiments.figures`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import keras
import numpy as np
import sklearn
import tensorflow as tf
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from experiments.results import (
    ResultsError,
    check,
    compare,
    dump,
    number,
    summarise,
)
from experiments.variants import VARIANTS, build

KEYS = ("experiment", "dataset", "variant", "seed")
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "data" / "results.json"
SEEDS = (0, 1, 2, 3, 4)
RATE = 0.3  # every Dropout layer, as on the site's pages


@dataclass(frozen=True)
class Dataset:
    title: str
    loader: str  # a function of sklearn.datasets; nothing is downloaded
    task: Literal["regression", "binary", "multiclass"]
    scale_features: bool  # StandardScaler fitted on the training split
    metrics: tuple[str, ...]  # the scores the results page tabulates
    train_size: int  # examples; the rest is the validation split
    # The same width and schedule on every dataset by default.
    width: int = 1024  # hidden units of every variant
    epochs: int = 60
    batch_size: int = 32
    # One example's shape as the model sees it; None: the vector of features.
    input_shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Experiment:
    title: str
    datasets: tuple[str, ...]
    variants: tuple[str, ...]
    optimizer: Literal["adam", "sgd"]
    learning_rate: float


# A wide network overfits the small diabetes data easily; the breast cancer
# data come unscaled (cell areas in the hundreds, smoothness below 1) or
# standardised. Each training split is about half the data, rounded to whole
# batches: one batch shape means one traced training step per model.
DATASETS = {
    "diabetes": Dataset(
        title="Diabetes (regression)",
        loader="load_diabetes",
        task="regression",
        scale_features=True,
        metrics=("val_loss",),
        train_size=224,  # of 442 patients: 7 batches
    ),
    "breast_cancer_raw": Dataset(
        title="Breast cancer, unscaled (binary)",
        loader="load_breast_cancer",
        task="binary",
        scale_features=False,
        metrics=("val_loss", "val_accuracy"),
        train_size=288,  # of 569 tumours: 9 batches
    ),
    "breast_cancer_scaled": Dataset(
        title="Breast cancer, standardised (binary)",
        loader="load_breast_cancer",
        task="binary",
        scale_features=True,
        metrics=("val_loss", "val_accuracy"),
        train_size=288,
    ),
    # 8 x 8 grey images of handwritten digits, pixels scaled from 0-16 to
    # 0-1. A small convolutional network overfits 512 of them: its training
    # loss falls far below its validation loss.
    "digits": Dataset(
        title="Handwritten digits, images (10 classes)",
        loader="load_digits",
        task="multiclass",
        scale_features=False,
        metrics=("val_loss", "val_accuracy"),
        train_size=512,  # of 1,797 images: 16 batches
        width=16,  # filters of the first convolution; the second has twice as many
        epochs=40,
        input_shape=(8, 8, 1),
    ),
}

WITH_AND_WITHOUT_BN = ("baseline", "bn_before_activation")
CNN_VARIANTS = tuple(v for v in VARIANTS if v.startswith("cnn_"))
PLACEMENTS = tuple(
    v
    for v in VARIANTS
    if v != "bn_before_activation_slow_output" and v not in CNN_VARIANTS
)
EXPERIMENTS = {
    "placements": Experiment(
        title="Every placement",
        datasets=("diabetes", "breast_cancer_raw"),
        variants=PLACEMENTS,
        optimizer="adam",
        learning_rate=0.001,  # Adam's default
    ),
    "scaling": Experiment(
        title="A StandardScaler before the model, with or without BN first",
        datasets=("breast_cancer_scaled",),
        variants=("baseline", "bn_inputs"),
        optimizer="adam",
        learning_rate=0.001,
    ),
    "orders_scaled": Experiment(
        title="Dropout before or after BN, on standardised features",
        datasets=("breast_cancer_scaled",),
        variants=("bn_after_activation", "dropout_then_bn", "bn_relu_dropout"),
        optimizer="adam",
        learning_rate=0.001,
    ),
    "high_lr_adam": Experiment(
        title="A high learning rate with Adam",
        datasets=("diabetes",),
        variants=WITH_AND_WITHOUT_BN,
        optimizer="adam",
        learning_rate=0.1,  # 100 times the default
    ),
    "high_lr_sgd": Experiment(
        title="A high learning rate with SGD",
        datasets=("diabetes",),
        variants=(*WITH_AND_WITHOUT_BN, "bn_before_activation_slow_output"),
        optimizer="sgd",
        learning_rate=0.1,  # 10 times the default
    ),
    "cnn": Experiment(
        title="A small convolutional network on images",
        datasets=("digits",),
        variants=CNN_VARIANTS,
        optimizer="adam",
        learning_rate=0.001,
    ),
}

# The paired comparisons the results page reports, a minus b, seed by seed:
# name -> (a, b, score), each of a and b an (experiment, dataset, variant).
DIABETES = ("placements", "diabetes")
CANCER = ("placements", "breast_cancer_raw")
SCALED = ("scaling", "breast_cancer_scaled")
ORDERS_SCALED = ("orders_scaled", "breast_cancer_scaled")
ADAM, SGD = ("high_lr_adam", "diabetes"), ("high_lr_sgd", "diabetes")
DIGITS = ("cnn", "digits")
ACC, LOSS, BEST = "val_accuracy", "val_loss", "best_val_loss"
# On the digits, each comparison twice: accuracy, and (`_loss`) loss.
DIGITS_PAIRS = {
    "bn_before": ("cnn_bn_before_activation", "cnn_baseline"),
    "bn_after": ("cnn_bn_after_activation", "cnn_baseline"),
    "bn_before_vs_after": ("cnn_bn_before_activation", "cnn_bn_after_activation"),
    "dropout": ("cnn_dropout", "cnn_baseline"),
    "spatial_dropout": ("cnn_spatial_dropout", "cnn_baseline"),
    "dropout_vs_spatial": ("cnn_dropout", "cnn_spatial_dropout"),
    "dropout_before_vs_after_pooling": ("cnn_dropout", "cnn_dropout_after_pooling"),
    "head_dropout": ("cnn_head_dropout", "cnn_baseline"),
}
COMPARISONS = {
    "diabetes_dropout_inputs": (
        (*DIABETES, "dropout_inputs"),
        (*DIABETES, "baseline"),
        LOSS,
    ),
    "diabetes_dropout_hidden": (
        (*DIABETES, "dropout_hidden"),
        (*DIABETES, "baseline"),
        LOSS,
    ),
    "diabetes_dropout_inputs_vs_hidden": (
        (*DIABETES, "dropout_inputs"),
        (*DIABETES, "dropout_hidden"),
        LOSS,
    ),
    "diabetes_dropout_inputs_best": (
        (*DIABETES, "dropout_inputs"),
        (*DIABETES, "baseline"),
        BEST,
    ),
    "diabetes_dropout_hidden_best": (
        (*DIABETES, "dropout_hidden"),
        (*DIABETES, "baseline"),
        BEST,
    ),
    "diabetes_bn_inputs": ((*DIABETES, "bn_inputs"), (*DIABETES, "baseline"), LOSS),
    "diabetes_bn_after_activation": (
        (*DIABETES, "bn_after_activation"),
        (*DIABETES, "baseline"),
        LOSS,
    ),
    "diabetes_bn_before_activation": (
        (*DIABETES, "bn_before_activation"),
        (*DIABETES, "baseline"),
        LOSS,
    ),
    "diabetes_bn_after_activation_best": (
        (*DIABETES, "bn_after_activation"),
        (*DIABETES, "baseline"),
        BEST,
    ),
    "diabetes_bn_before_activation_best": (
        (*DIABETES, "bn_before_activation"),
        (*DIABETES, "baseline"),
        BEST,
    ),
    "diabetes_dropout_then_bn": (
        (*DIABETES, "dropout_then_bn"),
        (*DIABETES, "bn_relu_dropout"),
        LOSS,
    ),
    "diabetes_usual_order_dropout": (
        (*DIABETES, "bn_relu_dropout"),
        (*DIABETES, "bn_before_activation"),
        LOSS,
    ),
    "cancer_dropout_inputs": ((*CANCER, "dropout_inputs"), (*CANCER, "baseline"), ACC),
    "cancer_dropout_hidden": ((*CANCER, "dropout_hidden"), (*CANCER, "baseline"), ACC),
    "cancer_dropout_hidden_loss": (
        (*CANCER, "dropout_hidden"),
        (*CANCER, "baseline"),
        LOSS,
    ),
    "cancer_bn_inputs": ((*CANCER, "bn_inputs"), (*CANCER, "baseline"), ACC),
    "cancer_bn_inputs_vs_scaler": ((*CANCER, "bn_inputs"), (*SCALED, "baseline"), ACC),
    "cancer_bn_after_activation_vs_first": (
        (*CANCER, "bn_after_activation"),
        (*CANCER, "bn_inputs"),
        ACC,
    ),
    "cancer_bn_before_activation_vs_first": (
        (*CANCER, "bn_before_activation"),
        (*CANCER, "bn_inputs"),
        ACC,
    ),
    "cancer_bn_before_vs_after_activation": (
        (*CANCER, "bn_before_activation"),
        (*CANCER, "bn_after_activation"),
        ACC,
    ),
    "diabetes_bn_before_vs_after_activation": (
        (*DIABETES, "bn_before_activation"),
        (*DIABETES, "bn_after_activation"),
        LOSS,
    ),
    "cancer_dropout_then_bn": (
        (*CANCER, "dropout_then_bn"),
        (*CANCER, "bn_after_activation"),
        ACC,
    ),
    "cancer_dropout_then_bn_vs_usual": (
        (*CANCER, "dropout_then_bn"),
        (*CANCER, "bn_relu_dropout"),
        ACC,
    ),
    "cancer_usual_order_dropout": (
        (*CANCER, "bn_relu_dropout"),
        (*CANCER, "bn_before_activation"),
        ACC,
    ),
    "scaled_bn_inputs_loss": ((*SCALED, "bn_inputs"), (*SCALED, "baseline"), LOSS),
    "scaled_bn_inputs": ((*SCALED, "bn_inputs"), (*SCALED, "baseline"), ACC),
    "scaled_dropout_then_bn": (
        (*ORDERS_SCALED, "dropout_then_bn"),
        (*ORDERS_SCALED, "bn_after_activation"),
        ACC,
    ),
    "scaled_dropout_then_bn_vs_usual": (
        (*ORDERS_SCALED, "dropout_then_bn"),
        (*ORDERS_SCALED, "bn_relu_dropout"),
        ACC,
    ),
    "adam_high_lr_bn": ((*ADAM, "bn_before_activation"), (*ADAM, "baseline"), LOSS),
    "adam_high_lr_baseline_vs_default": (
        (*ADAM, "baseline"),
        (*DIABETES, "baseline"),
        LOSS,
    ),
    "adam_high_lr_bn_vs_default": (
        (*ADAM, "bn_before_activation"),
        (*DIABETES, "bn_before_activation"),
        LOSS,
    ),
    "sgd_slow_output_vs_baseline": (
        (*SGD, "bn_before_activation_slow_output"),
        (*SGD, "baseline"),
        LOSS,
    ),
} | {
    f"digits_{name}{suffix}": ((*DIGITS, a), (*DIGITS, b), score)
    for name, (a, b) in DIGITS_PAIRS.items()
    for suffix, score in (("", ACC), ("_loss", LOSS))
}

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def raw(spec: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets as scikit-learn ships them (images flattened)."""
    loader = getattr(datasets, spec.loader)
    if spec.loader == "load_diabetes":
        return loader(return_X_y=True, scaled=False)
    return loader(return_X_y=True)


def load(name: str, seed: int) -> Arrays:
    """Training and validation splits; the split depends on the seed."""
    spec = DATASETS[name]
    x, y = raw(spec)
    x_train, x_val, y_train, y_val = train_test_split(
        x,
        y,
        train_size=spec.train_size,
        random_state=seed,
        stratify=None if spec.task == "regression" else y,
    )
    if spec.scale_features:
        scaler = StandardScaler().fit(x_train)
        x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    if spec.input_shape is not None:  # load_digits: pixels from 0 to 16
        x_train, x_val = (
            (x / 16).reshape(-1, *spec.input_shape) for x in (x_train, x_val)
        )
    if spec.task == "regression":  # targets in units of the training std
        mean, std = y_train.mean(), y_train.std()
        y_train, y_val = (y_train - mean) / std, (y_val - mean) / std
    f32, target = "float32", "int32" if spec.task == "multiclass" else "float32"
    return (
        x_train.astype(f32),
        x_val.astype(f32),
        y_train.astype(target),
        y_val.astype(target),
    )


def train(experiment: str, dataset: str, variant: str, seed: int, epochs: int) -> dict:
    """One run: per-epoch curves, final scores and wall time."""
    spec, setup = DATASETS[dataset], EXPERIMENTS[experiment]
    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow
    x_train, x_val, y_train, y_val = load(dataset, seed)
    classes = int(y_train.max()) + 1 if spec.task == "multiclass" else 1
    model = build(variant, x_train.shape[1:], spec.width, RATE, units=classes)
    optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}
    if spec.task == "binary":
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
        metrics = [keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")]
    elif spec.task == "multiclass":  # one logit per class
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    else:
        loss, metrics = "mse", []
    model.compile(
        optimizer=optimizer[setup.optimizer](setup.learning_rate),
        loss=loss,
        metrics=metrics,
    )
    # The loop `fit` runs, written out with train_on_batch: `fit` spends most
    # of its time per epoch setting up its data pipeline on arrays this small.
    shuffle = np.random.default_rng(seed)
    history: dict[str, list[float | None]] = {}
    start = time.perf_counter()
    for _ in range(epochs):
        order, total = shuffle.permutation(len(x_train)), 0.0
        for begin in range(0, len(order), spec.batch_size):
            batch = order[begin : begin + spec.batch_size]
            logs = model.train_on_batch(
                x_train[batch], y_train[batch], return_dict=True
            )
            total += float(logs["loss"]) * len(batch)  # training mode
        scores = {"loss": total / len(order)}
        for split, x, y in (("train", x_train, y_train), ("val", x_val, y_val)):
            logs = model.test_on_batch(x, y, return_dict=True)  # inference mode
            scores |= {f"{split}_{key}": value for key, value in logs.items()}
        for key, value in scores.items():
            history.setdefault(key, []).append(number(value))
        if None in history["loss"] + history["val_loss"]:
            break  # diverged: the remaining epochs stay null
    seconds = time.perf_counter() - start
    completed = len(history["loss"])
    for values in history.values():
        values += [None] * (epochs - completed)
    final = {key: values[completed - 1] for key, values in history.items()}
    val = [v for v in history["val_loss"] if v is not None]
    final["best_val_loss"] = min(val) if val else None
    final["best_epoch"] = history["val_loss"].index(min(val)) + 1 if val else None
    return {
        "experiment": experiment,
        "dataset": dataset,
        "variant": variant,
        "seed": seed,
        "seconds": round(seconds, 2),
        "epochs_completed": completed,
        "diverged": completed < epochs or None in final.values(),
        "final": final,
        "history": history,
    }


def environment() -> dict:
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


# The smoke run: one seed, two epochs, on the first dataset of each
# experiment, of these variants only: dense layers fused with their activation
# or not, SGD with the slowed output layer, and convolutions with a dropout
# whose masks span whole channels. Every variant's model is built by a test.
SMOKE = {
    "placements": ("dropout_inputs", "dropout_inputs_activation"),
    "high_lr_sgd": ("bn_before_activation_slow_output",),
    "cnn": ("cnn_spatial_dropout",),
}


def selected(smoke: bool) -> dict[str, Experiment]:
    """Every experiment; in smoke mode, those of SMOKE, cut down to it."""
    if not smoke:
        return EXPERIMENTS
    return {
        name: replace(
            EXPERIMENTS[name],
            datasets=EXPERIMENTS[name].datasets[:1],
            variants=variants,
        )
        for name, variants in SMOKE.items()
    }


def quiet() -> None:
    tf.get_logger().setLevel("ERROR")  # retracing notices for each new model


def merge_base(path: Path, only: list[str], config: dict) -> dict:
    """The results file at `path`, checked fit to keep its runs of every
    experiment not in `only`: a full run, with these versions, CPU count,
    seeds and, for each experiment kept, the same configuration. (The
    platform string names the kernel build too; each merged batch records
    its own.)"""
    old = json.loads(path.read_text(encoding="utf-8"))
    # Fields that older files lack; the differences are derived from the runs.
    old["config"].setdefault("comparisons", {})
    for variant in old["config"]["variants"].values():
        variant.setdefault("output_learning_rate", 1.0)
    for dataset in old["config"]["datasets"].values():
        dataset.setdefault("input_shape", None)
    old["differences"] = compare(old["config"]["comparisons"], old["summary"])
    check(old, str(path))
    problems = []
    if old["mode"] != "full":
        problems.append(f"a {old['mode']} run")
    versions = {k: v for k, v in environment().items() if k != "platform"}
    if {k: old["environment"][k] for k in versions} != versions:
        problems.append("other versions or another machine")
    for key in ("seeds", "dropout_rate", "epochs_override"):
        if old["config"][key] != config[key]:
            problems.append(f"other {key}")
    for name in set(config["experiments"]) - set(only):
        setup = old["config"]["experiments"].get(name)
        if setup != config["experiments"][name]:
            problems.append(f"experiment {name} missing or changed")
            continue
        for dataset in setup["datasets"]:
            if old["config"]["datasets"][dataset] != config["datasets"][dataset]:
                problems.append(f"dataset {dataset} changed")
        for variant in setup["variants"]:
            now, before = (
                config["variants"][variant],
                old["config"]["variants"][variant],
            )
            if any(before[k] != now[k] for k in now if k not in ("title", "page")):
                problems.append(f"variant {variant} changed")
    if problems:
        raise ResultsError(
            f"{path}: cannot keep its runs ({'; '.join(sorted(set(problems)))}); "
            "rerun those experiments with --only, or everything without it"
        )
    return old


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1 seed, 2 epochs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="training processes"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(EXPERIMENTS),
        metavar="EXPERIMENT",
        help="run only this experiment (repeatable) and merge its runs into "
        "the existing full results file, replacing any it held",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be 1 or more")
    if args.only and args.smoke:
        parser.error("--only merges into a full run; it does not go with --smoke")
    experiments = selected(args.smoke)
    seeds = SEEDS[:1] if args.smoke else SEEDS
    todo = [
        (name, dataset, variant, seed, 2 if args.smoke else DATASETS[dataset].epochs)
        for name, setup in experiments.items()
        if not args.only or name in args.only
        for dataset in setup.datasets
        for variant in setup.variants
        for seed in seeds
    ]
    runs: list[dict] = []

    def report(run: dict) -> None:
        runs.append(run)
        scores = ", ".join(
            f"{key} {run['final'][key]:.4f}"
            for key in DATASETS[run["dataset"]].metrics
            if run["final"][key] is not None
        )
        print(
            f"[{len(runs)}/{len(todo)}] {run['experiment']} {run['dataset']} "
            f"{run['variant']} seed {run['seed']}: "
            f"{'diverged' if run['diverged'] else scores} ({run['seconds']:.1f} s)",
            flush=True,
        )

    used = {dataset for setup in experiments.values() for dataset in setup.datasets}
    config = {
        "seeds": list(seeds),
        "dropout_rate": RATE,
        "epochs_override": 2 if args.smoke else None,
        "datasets": {
            name: {**asdict(spec), "shape": list(raw(spec)[0].shape)}
            for name, spec in DATASETS.items()
            if name in used
        },
        "variants": {
            name: {
                "title": v.title,
                "order": v.order,
                "page": v.page,
                "output_learning_rate": v.output_learning_rate,
            }
            for name, v in VARIANTS.items()
        },
        "experiments": {name: asdict(setup) for name, setup in experiments.items()},
    }
    config = json.loads(json.dumps(config))  # tuples as lists, as read back
    old = merge_base(args.output, args.only, config) if args.only else None

    start, load_start = time.perf_counter(), os.getloadavg()[0]
    if args.jobs == 1:
        quiet()
        for task in todo:
            report(train(*task))
    else:  # each run is seeded by itself: the numbers do not depend on --jobs
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.jobs, spawn, initializer=quiet) as pool:
            for future in as_completed([pool.submit(train, *task) for task in todo]):
                report(future.result())
    batch = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wall_time_seconds": round(time.perf_counter() - start, 1),
        "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }
    merged = []
    if old is not None:  # keep the runs, and the batches, of the rest
        runs += [r for r in old["runs"] if r["experiment"] not in args.only]
        for earlier in old.get("merged", []):
            kept = [e for e in earlier["experiments"] if e not in args.only]
            merged += [{**earlier, "experiments": kept}] if kept else []
        merged.append(
            {
                **batch,
                "platform": platform.platform(),
                "experiments": list(args.only),
            }
        )
        batch = {key: old[key] for key in batch}
    order = [
        (name, dataset, variant, seed)
        for name, setup in experiments.items()
        for dataset in setup.datasets
        for variant in setup.variants
        for seed in seeds
    ]
    runs.sort(key=lambda r: order.index(tuple(r[k] for k in KEYS)))

    def present(cell: tuple[str, str, str]) -> bool:
        experiment, dataset, variant = cell
        setup = experiments.get(experiment)
        return (
            setup is not None
            and dataset in setup.datasets
            and variant in setup.variants
        )

    comparisons = {
        name: {"a": list(a), "b": list(b), "score": score}
        for name, (a, b, score) in COMPARISONS.items()
        if present(a) and present(b)
    }
    summary = summarise(runs)
    results = {
        "mode": "smoke" if args.smoke else "full",
        **batch,
        **({"merged": merged} if merged else {}),
        "environment": old["environment"] if old else environment(),
        "config": {**config, "comparisons": comparisons},
        "runs": runs,
        "summary": summary,
        "differences": compare(comparisons, summary),
    }
    text = dump(results) + "\n"
    check(json.loads(text), str(args.output))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(
        f"{len(todo)} runs in {time.perf_counter() - start:.0f} s -> {args.output}",
        file=sys.stderr,
    )
    return args.output


if __name__ == "__main__":
    main()
