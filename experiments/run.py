"""Train every variant of every experiment, and write one results file.

    python -m experiments.run                 # full run: docs/data/results.json
    python -m experiments.run --smoke --output /tmp/results.json

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

from experiments.results import check, dump, number, summarise
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
    task: Literal["regression", "binary"]
    scale_features: bool  # StandardScaler fitted on the training split
    metrics: tuple[str, ...]  # the scores the results page tabulates
    train_size: int  # examples; the rest is the validation split
    # The same width and schedule on every dataset by default.
    width: int = 1024  # hidden units of every variant
    epochs: int = 60
    batch_size: int = 32


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
}

WITH_AND_WITHOUT_BN = ("baseline", "bn_before_activation")
EXPERIMENTS = {
    "placements": Experiment(
        title="Every placement",
        datasets=("diabetes", "breast_cancer_raw"),
        variants=tuple(VARIANTS),
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
        variants=WITH_AND_WITHOUT_BN,
        optimizer="sgd",
        learning_rate=0.1,  # 10 times the default
    ),
}

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def raw(spec: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets as scikit-learn ships them."""
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
        stratify=y if spec.task == "binary" else None,
    )
    if spec.scale_features:
        scaler = StandardScaler().fit(x_train)
        x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    if spec.task == "regression":  # targets in units of the training std
        mean, std = y_train.mean(), y_train.std()
        y_train, y_val = (y_train - mean) / std, (y_val - mean) / std
    f32 = "float32"
    return (
        x_train.astype(f32),
        x_val.astype(f32),
        y_train.astype(f32),
        y_val.astype(f32),
    )


def train(experiment: str, dataset: str, variant: str, seed: int, epochs: int) -> dict:
    """One run: per-epoch curves, final scores and wall time."""
    spec, setup = DATASETS[dataset], EXPERIMENTS[experiment]
    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow
    x_train, x_val, y_train, y_val = load(dataset, seed)
    model = build(variant, x_train.shape[1], spec.width, RATE)
    optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}
    if spec.task == "binary":
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
        metrics = [keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")]
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


def selected(smoke: bool) -> dict[str, Experiment]:
    """Every experiment; in smoke mode, on the diabetes data only, those
    that bring a variant or an optimizer not covered yet."""
    if not smoke:
        return EXPERIMENTS
    chosen: dict[str, Experiment] = {}
    for name, setup in EXPERIMENTS.items():
        seen = [(v, s.optimizer) for s in chosen.values() for v in s.variants]
        if "diabetes" in setup.datasets and any(
            (v, setup.optimizer) not in seen for v in setup.variants
        ):
            chosen[name] = replace(setup, datasets=("diabetes",))
    return chosen


def quiet() -> None:
    tf.get_logger().setLevel("ERROR")  # retracing notices for each new model


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1 seed, 2 epochs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="training processes"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be 1 or more")
    experiments = selected(args.smoke)
    seeds = SEEDS[:1] if args.smoke else SEEDS
    todo = [
        (name, dataset, variant, seed, 2 if args.smoke else DATASETS[dataset].epochs)
        for name, setup in experiments.items()
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
        order = [task[:4] for task in todo]
        runs.sort(key=lambda r: order.index(tuple(r[k] for k in KEYS)))
    used = {dataset for setup in experiments.values() for dataset in setup.datasets}
    results = {
        "mode": "smoke" if args.smoke else "full",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wall_time_seconds": round(time.perf_counter() - start, 1),
        "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "environment": environment(),
        "config": {
            "seeds": list(seeds),
            "dropout_rate": RATE,
            "epochs_override": 2 if args.smoke else None,
            "datasets": {
                name: {**asdict(spec), "shape": list(raw(spec)[0].shape)}
                for name, spec in DATASETS.items()
                if name in used
            },
            "variants": {
                name: {"title": v.title, "order": v.order, "page": v.page}
                for name, v in VARIANTS.items()
            },
            "experiments": {name: asdict(setup) for name, setup in experiments.items()},
        },
        "runs": runs,
        "summary": summarise(runs),
    }
    text = dump(results) + "\n"
    check(json.loads(text), str(args.output))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(
        f"{len(runs)} runs in {results['wall_time_seconds']:.0f} s -> {args.output}",
        file=sys.stderr,
    )
    return args.output


if __name__ == "__main__":
    main()
