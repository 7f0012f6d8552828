"""Draw the results page's figures from the results file, and nothing else.

    python -m experiments.figures        # `make figures`: docs/figures/*.svg

The SVG output is byte-for-byte reproducible (fixed hash salt, no date, the
DejaVu Sans font that ships with Matplotlib, text drawn as paths), so the
tests can tell whether the committed figures still match the data. Every
figure has an opaque white background and dark text, legible in both the
site's light and dark schemes.
"""

from __future__ import annotations

import argparse
import io
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from experiments.results import ResultsError, read

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "data" / "results.json"
FIGURES = ROOT / "docs" / "figures"

STYLE = {
    "svg.hashsalt": "dropout-batchnorm-results",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "text.color": "#1a1a1a",
    "axes.labelcolor": "#1a1a1a",
    "axes.edgecolor": "#555555",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "legend.frameon": False,
}
# Okabe & Ito's palette, distinguishable with the common colour-vision
# deficiencies.
BLACK, ORANGE, SKY, GREEN, BLUE, VERMILION = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#D55E00",
)
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}
LABELS = {
    "val_loss": "validation loss",
    "val_accuracy": "validation accuracy",
    "train_loss": "training loss (inference mode)",
}


def curves(results: dict, experiment: str, dataset: str, variant: str, key: str):
    """seeds x epochs; NaN after a divergence."""
    return np.array(
        [
            [np.nan if value is None else value for value in run["history"][key]]
            for run in results["runs"]
            if (run["experiment"], run["dataset"], run["variant"])
            == (experiment, dataset, variant)
        ],
        dtype=float,
    )


def band(ax: Axes, values: np.ndarray, colour: str, label: str, style="-") -> None:
    """The mean over seeds as a line, their lowest and highest as a band."""
    epochs = np.arange(1, values.shape[1] + 1)
    with warnings.catch_warnings():  # epochs where every seed had diverged
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
        low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    ax.fill_between(epochs, low, high, color=colour, alpha=0.15, linewidth=0)
    ax.plot(epochs, mean, style, color=colour, label=label, linewidth=1.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def diverged(results: dict, experiment: str, dataset: str, variant: str) -> int:
    return sum(
        run["diverged"]
        for run in results["runs"]
        if (run["experiment"], run["dataset"], run["variant"])
        == (experiment, dataset, variant)
    )


def seeds_note(results: dict) -> str:
    return f"mean of {len(results['config']['seeds'])} seeds; band: lowest to highest"


def dropout_curves(results: dict) -> Figure:
    """Training and validation loss with and without dropout (diabetes)."""
    variants = ("baseline", "dropout_inputs", "dropout_hidden")
    titles = results["config"]["variants"]
    figure = Figure(figsize=(9, 3.2), layout="constrained")
    axes = figure.subplots(1, len(variants), sharey=True)
    for ax, variant in zip(axes, variants, strict=True):
        for key, colour, style in (
            ("train_loss", BLUE, "--"),
            ("val_loss", ORANGE, "-"),
        ):
            values = curves(results, "placements", "diabetes", variant, key)
            band(ax, values, colour, LABELS[key], style)
        ax.set_title(titles[variant]["title"])
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("mean squared error (standardised target)")
    axes[0].set_ylim(bottom=0)
    axes[0].legend(loc="lower left")
    figure.suptitle(
        f"Diabetes data: overfitting with and without Dropout ({seeds_note(results)})"
    )
    return figure


def unscaled_inputs(results: dict) -> Figure:
    """Unscaled or standardised features, with or without BN on the inputs."""
    raw = ("placements", "breast_cancer_raw")
    scaled = ("scaling", "breast_cancer_scaled")
    first = "BatchNormalization first"
    setups = (
        (*raw, "baseline", "unscaled", VERMILION, "-"),
        (*raw, "bn_inputs", f"unscaled, {first}", BLUE, "-"),
        (*scaled, "baseline", "StandardScaler", ORANGE, "--"),
        (*scaled, "bn_inputs", f"StandardScaler, {first}", GREEN, "--"),
    )
    figure = Figure(figsize=(9, 3.4), layout="constrained")
    axes = figure.subplots(1, 2)
    for ax, key in zip(axes, ("val_loss", "val_accuracy"), strict=True):
        for experiment, dataset, variant, label, colour, style in setups:
            values = curves(results, experiment, dataset, variant, key)
            band(ax, values, colour, label, style)
        ax.set_xlabel("epoch")
        ax.set_ylabel(LABELS[key])
    axes[0].set_yscale("log")
    axes[0].set_ylabel("validation loss (binary cross-entropy, log scale)")
    axes[1].legend(loc="lower right")
    figure.suptitle(f"Breast cancer data: scaling the inputs ({seeds_note(results)})")
    return figure


def high_learning_rate(results: dict) -> Figure:
    """With and without BN at the usual and at high learning rates (diabetes)."""
    experiments = ("placements", "high_lr_adam", "high_lr_sgd")
    variants = (("baseline", BLACK), ("bn_before_activation", BLUE))
    config = results["config"]
    figure = Figure(figsize=(9, 3.4), layout="constrained")
    axes = figure.subplots(1, len(experiments), sharey=True)
    for ax, experiment in zip(axes, experiments, strict=True):
        setup = config["experiments"][experiment]
        notes = []
        # The ablation: BN with the output layer's learning rate lowered.
        slow = "bn_before_activation_slow_output"
        extra = [(slow, GREEN)] if slow in setup["variants"] else []
        for variant, colour in [*variants, *extra]:
            title = config["variants"][variant]["title"]
            values = curves(results, experiment, "diabetes", variant, "val_loss")
            band(ax, values, colour, title, "--" if variant == slow else "-")
            if count := diverged(results, experiment, "diabetes", variant):
                notes.append(
                    f"{title}:\ndiverged in {count} of {len(config['seeds'])} seeds"
                )
        optimizer = OPTIMIZERS[setup["optimizer"]]
        ax.set_title(f"{optimizer}, learning rate {setup['learning_rate']:g}")
        if notes:
            ax.text(
                0.5,
                0.55,
                "\n".join(notes),
                transform=ax.transAxes,
                ha="center",
                va="center",
                color=VERMILION,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            )
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("validation MSE (standardised target, log scale)")
    axes[0].legend(loc="upper left")
    factor = "output_learning_rate"
    if len(axes[-1].get_lines()) > len(variants):
        axes[-1].legend(
            handles=axes[-1].get_lines()[len(variants) :],
            labels=[
                textwrap.fill(
                    "BatchNormalization before the activation, output layer's "
                    f"learning rate times {config['variants'][slow][factor]:g}",
                    26,
                )
            ],
            loc="upper right",
            fontsize="small",
        )
    figure.suptitle(
        "Diabetes data: BatchNormalization and the learning rate "
        f"({seeds_note(results)})"
    )
    return figure


def placements(results: dict) -> Figure:
    """Every placement's final scores, per seed and on average."""
    config = results["config"]
    summary = results["summary"]["placements"]
    setup = config["experiments"]["placements"]
    panels = [
        (d, m) for d in setup["datasets"] for m in config["datasets"][d]["metrics"]
    ]
    variants = setup["variants"]
    rows = np.arange(len(variants))[::-1]
    figure = Figure(figsize=(9, 0.32 * len(variants) + 1.6), layout="constrained")
    axes = figure.subplots(1, len(panels), sharey=True)
    for ax, (dataset, metric) in zip(axes, panels, strict=True):
        baseline = summary[dataset]["baseline"][metric]["mean"]
        ax.axvline(baseline, color=BLACK, linewidth=0.8, linestyle=":")
        for row, variant in zip(rows, variants, strict=True):
            stats = summary[dataset][variant][metric]
            values = [v for v in stats["values"] if v is not None]
            ax.plot(
                values, [row] * len(values), "o", color=SKY, markersize=3.5, alpha=0.8
            )
            if stats["mean"] is not None:
                ax.errorbar(
                    stats["mean"],
                    row,
                    xerr=stats["std"] or 0,
                    fmt="D",
                    color=BLUE,
                    markersize=5,
                    capsize=3,
                )
        title = textwrap.fill(config["datasets"][dataset]["title"], 26)
        ax.set_title(f"{title}:\nfinal {LABELS[metric]}", fontsize=9)
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(rows, [config["variants"][v]["title"] for v in variants])
    figure.suptitle(
        "Every placement after its last epoch\neach seed (dots), mean ± standard "
        f"deviation of {len(config['seeds'])} seeds (diamonds), "
        "mean without regularisation (dotted line)"
    )
    return figure


DRAW: dict[str, Callable[[dict], Figure]] = {
    "dropout-learning-curves.svg": dropout_curves,
    "bn-unscaled-inputs.svg": unscaled_inputs,
    "bn-high-learning-rate.svg": high_learning_rate,
    "placements.svg": placements,
}


def render(results: dict) -> dict[str, bytes]:
    """Every figure's SVG bytes, by file name."""
    drawn = {}
    with rc_context(STYLE):
        for name, draw in DRAW.items():
            buffer = io.BytesIO()
            draw(results).savefig(buffer, format="svg", metadata={"Date": None})
            drawn[name] = buffer.getvalue()
    return drawn


def read_full(path: Path) -> dict:
    """The results of a full run; a smoke run lacks most experiments."""
    results = read(path)
    if results["mode"] != "full":
        raise ResultsError(
            f"{path}: figures need a full run, not a {results['mode']} run"
        )
    return results


def stale(results: Path = RESULTS, directory: Path = FIGURES) -> list[str]:
    """What is wrong with the figures in `directory`, one line per file: out
    of date with `results`, missing, or not drawn from it at all."""
    drawn = render(read_full(results))
    problems = []
    for name in sorted(set(drawn) | {path.name for path in directory.glob("*.svg")}):
        path = directory / name
        if name not in drawn:
            problems.append(f"{path}: not drawn from {results.name}; delete it")
        elif not path.exists():
            problems.append(f"{path}: missing; run `make figures`")
        elif path.read_bytes() != drawn[name]:
            problems.append(f"{path}: out of date; run `make figures`")
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--output", type=Path, default=FIGURES)
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    for name, svg in render(read_full(args.results)).items():
        (args.output / name).write_bytes(svg)
        print(args.output / name)


if __name__ == "__main__":
    main()
