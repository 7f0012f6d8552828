"""Draw the results page's figures from the results file, and nothing else.

    python -m experiments.figures        # `make figures`: docs/figures/*.svg

The SVG output is byte-for-byte reproducible (fixed hash salt, no date, the
DejaVu Sans font that ships with Matplotlib, text drawn as paths), so the
tests can tell whether the committed figures still match the data. Every
figure is drawn twice: `<name>.svg` with dark text on white for the site's
light scheme, and `<name>-dark.svg` with light text on the dark scheme's
background; the results page shows each in its own scheme.

Sizes are for the page's content column, about 690 px wide: a figure is
6.9 inches wide, which a browser shows at about 660 px (72 points to the
inch, 4/3 px to the point), so no text smaller than 9 points (12 px) is
scaled down on a desktop screen.
"""

from __future__ import annotations

import argparse
import io
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from experiments.results import ResultsError, read

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "data" / "results.json"
FIGURES = ROOT / "docs" / "figures"

WIDTH = 6.9  # inches: the content column at its natural size
STYLE = {
    "svg.hashsalt": "dropout-batchnorm-results",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,  # the smallest text: 12 px at the natural size
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "legend.frameon": False,
}


@dataclass(frozen=True)
class Scheme:
    """The colours of one of the site's schemes. The line colours are from
    Okabe & Ito's palette, distinguishable with the common colour-vision
    deficiencies, lightened or darkened where needed so that every line and
    every mean has a contrast of 3:1 or more with the background (text:
    4.5:1); only the single seeds' dots, behind their means, may be fainter."""

    suffix: str  # added to each file name's stem
    background: str
    text: str  # and the line without regularisation
    ticks: str
    spines: str
    grid: str
    blue: str
    orange: str
    green: str
    vermilion: str  # lines
    warning: str  # text
    dots: str  # single seeds, behind their mean
    band: float  # opacity of the lowest-to-highest band

    def style(self) -> dict:
        return {
            **STYLE,
            "figure.facecolor": self.background,
            "savefig.facecolor": self.background,
            "axes.facecolor": self.background,
            "text.color": self.text,
            "axes.labelcolor": self.text,
            "axes.titlecolor": self.text,
            "axes.edgecolor": self.spines,
            "xtick.color": self.ticks,
            "ytick.color": self.ticks,
            "xtick.labelcolor": self.ticks,
            "ytick.labelcolor": self.ticks,
            "grid.color": self.grid,
            "legend.labelcolor": self.text,
        }


LIGHT = Scheme(
    suffix="",
    background="#ffffff",
    text="#1a1a1a",
    ticks="#333333",
    spines="#555555",
    grid="#e3e3e3",
    blue="#0072B2",
    orange="#B87F00",
    green="#009E73",
    vermilion="#D55E00",
    warning="#B35000",
    dots="#56B4E9",
    band=0.15,
)
# Material's slate scheme: its background, hsl(225, 15%, 14%), and its text's
# hue and lightness, hsl(225, 15%, 90%), opaque.
DARK = Scheme(
    suffix="-dark",
    background="#1e2129",
    text="#e2e4e9",
    ticks="#c8cad0",
    spines="#9a9ea8",
    grid="#363a46",
    blue="#56B4E9",
    orange="#E69F00",
    green="#2DBE91",
    vermilion="#F08A4B",
    warning="#F08A4B",
    dots="#0B84C6",
    band=0.25,
)
SCHEMES = (LIGHT, DARK)
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


def band(
    ax: Axes,
    scheme: Scheme,
    values: np.ndarray,
    colour: str,
    label: str,
    style="-",
) -> None:
    """The mean over seeds as a line, their lowest and highest as a band."""
    epochs = np.arange(1, values.shape[1] + 1)
    with warnings.catch_warnings():  # epochs where every seed had diverged
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
        low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    ax.fill_between(epochs, low, high, color=colour, alpha=scheme.band, linewidth=0)
    ax.plot(epochs, mean, style, color=colour, label=label, linewidth=1.6)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))


def diverged(results: dict, experiment: str, dataset: str, variant: str) -> int:
    return sum(
        run["diverged"]
        for run in results["runs"]
        if (run["experiment"], run["dataset"], run["variant"])
        == (experiment, dataset, variant)
    )


def seeds_note(results: dict) -> str:
    return f"mean of {len(results['config']['seeds'])} seeds; band: lowest to highest"


def log_scale(ax: Axes) -> None:
    """A log scale labelled 0.1, 1, 10: a power's small raised exponent
    would be the smallest text in the figure."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def legend_below(figure: Figure, handles: list, labels: list[str], ncols: int):
    """One legend for every panel, under them all, never between panels."""
    figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=ncols,
        handlelength=2.5,
        columnspacing=1.5,
    )


def dropout_curves(results: dict, scheme: Scheme) -> Figure:
    """Training and validation loss with and without dropout (diabetes)."""
    variants = ("baseline", "dropout_inputs", "dropout_hidden")
    titles = results["config"]["variants"]
    figure = Figure(figsize=(WIDTH, 3.6), layout="constrained")
    axes = figure.subplots(1, len(variants), sharey=True)
    for ax, variant in zip(axes, variants, strict=True):
        for key, colour, style in (
            ("train_loss", scheme.blue, "--"),
            ("val_loss", scheme.orange, "-"),
        ):
            values = curves(results, "placements", "diabetes", variant, key)
            band(ax, scheme, values, colour, LABELS[key], style)
        ax.set_title(textwrap.fill(titles[variant]["title"], 18))
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("mean squared error\n(standardised target)")
    axes[0].set_ylim(bottom=0)
    legend_below(figure, *axes[0].get_legend_handles_labels(), ncols=2)
    figure.suptitle(
        f"Diabetes data: overfitting with and without Dropout\n({seeds_note(results)})"
    )
    return figure


def unscaled_inputs(results: dict, scheme: Scheme) -> Figure:
    """Unscaled or standardised features, with or without BN on the inputs."""
    raw = ("placements", "breast_cancer_raw")
    scaled = ("scaling", "breast_cancer_scaled")
    first = "BatchNormalization first"
    setups = (
        (*raw, "baseline", "unscaled", scheme.vermilion, "-"),
        (*raw, "bn_inputs", f"unscaled, {first}", scheme.blue, "-"),
        (*scaled, "baseline", "StandardScaler", scheme.orange, "--"),
        (*scaled, "bn_inputs", f"StandardScaler, {first}", scheme.green, "--"),
    )
    figure = Figure(figsize=(WIDTH, 3.9), layout="constrained")
    axes = figure.subplots(1, 2)
    titles = (
        "validation loss\n(binary cross-entropy, log scale)",
        "validation accuracy",
    )
    for ax, key, title in zip(axes, ("val_loss", "val_accuracy"), titles, strict=True):
        for experiment, dataset, variant, label, colour, style in setups:
            values = curves(results, experiment, dataset, variant, key)
            band(ax, scheme, values, colour, label, style)
        ax.set_xlabel("epoch")
        ax.set_title(title)
    log_scale(axes[0])
    legend_below(figure, *axes[0].get_legend_handles_labels(), ncols=2)
    figure.suptitle(f"Breast cancer data: scaling the inputs\n({seeds_note(results)})")
    return figure


def high_learning_rate(results: dict, scheme: Scheme) -> Figure:
    """With and without BN at the usual and at high learning rates (diabetes)."""
    experiments = ("placements", "high_lr_adam", "high_lr_sgd")
    # The ablation: BN with the output layer's learning rate lowered.
    slow = "bn_before_activation_slow_output"
    colours = {
        "baseline": scheme.text,
        "bn_before_activation": scheme.blue,
        slow: scheme.green,
    }
    config = results["config"]
    figure = Figure(figsize=(WIDTH, 4.1), layout="constrained")
    axes = figure.subplots(1, len(experiments), sharey=True)
    handles = {}
    for ax, experiment in zip(axes, experiments, strict=True):
        setup = config["experiments"][experiment]
        notes = []
        for variant in [v for v in colours if v in setup["variants"]]:
            title = config["variants"][variant]["title"]
            values = curves(results, experiment, "diabetes", variant, "val_loss")
            band(
                ax, scheme, values, colours[variant], title,
                "--" if variant == slow else "-",
            )  # fmt: skip
            handles.setdefault(variant, ax.get_lines()[-1])
            if count := diverged(results, experiment, "diabetes", variant):
                notes.append(
                    f"{textwrap.fill(title, 22)}:\n"
                    f"diverged in {count} of {len(config['seeds'])} seeds"
                )
        optimizer = OPTIMIZERS[setup["optimizer"]]
        ax.set_title(f"{optimizer}\nlearning rate {setup['learning_rate']:g}")
        if notes:
            ax.text(
                0.96,
                0.96,
                "\n".join(notes),
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=9,
                color=scheme.warning,
                bbox={
                    "facecolor": scheme.background,
                    "edgecolor": "none",
                    "alpha": 0.85,
                    "pad": 2,
                },
            )
        log_scale(ax)
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("validation MSE\n(standardised target, log scale)")
    factor = config["variants"][slow]["output_learning_rate"]
    labels = {variant: config["variants"][variant]["title"] for variant in handles} | {
        slow: "BatchNormalization before the activation, output layer's\n"
        f"learning rate times {factor:g}",
    }
    legend_below(figure, list(handles.values()), [labels[v] for v in handles], ncols=1)
    figure.suptitle(
        "Diabetes data: BatchNormalization and the learning rate\n"
        f"({seeds_note(results)})"
    )
    return figure


def final_scores(
    results: dict,
    scheme: Scheme,
    experiment: str = "placements",
    baseline: str = "baseline",
    title: str = "Every placement after its last epoch",
) -> Figure:
    """Every variant's final scores in an experiment, per seed and on
    average, against the mean of the variant without regularisation."""
    config = results["config"]
    summary = results["summary"][experiment]
    setup = config["experiments"][experiment]
    panels = [
        (d, m) for d in setup["datasets"] for m in config["datasets"][d]["metrics"]
    ]
    variants = setup["variants"]
    rows = np.arange(len(variants))[::-1]
    figure = Figure(figsize=(WIDTH, 0.42 * len(variants) + 1.9), layout="constrained")
    axes = figure.subplots(1, len(panels), sharey=True)
    for ax, (dataset, metric) in zip(axes, panels, strict=True):
        without = summary[dataset][baseline][metric]["mean"]
        ax.axvline(without, color=scheme.text, linewidth=0.9, linestyle=":")
        for row, variant in zip(rows, variants, strict=True):
            stats = summary[dataset][variant][metric]
            values = [v for v in stats["values"] if v is not None]
            ax.plot(
                values,
                [row] * len(values),
                "o",
                color=scheme.dots,
                markersize=3.5,
                alpha=0.8,
            )
            if stats["mean"] is not None:
                ax.errorbar(
                    stats["mean"],
                    row,
                    xerr=stats["std"] or 0,
                    fmt="D",
                    color=scheme.blue,
                    markersize=5,
                    capsize=3,
                )
        if len(setup["datasets"]) > 1:  # else the figure's title names it
            ax.set_title(textwrap.fill(config["datasets"][dataset]["title"], 20))
        ax.set_xlabel(f"final {LABELS[metric]}")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(
        rows, [textwrap.fill(config["variants"][v]["title"], 26) for v in variants]
    )
    key = [
        Line2D([], [], marker="o", linestyle="", color=scheme.dots, markersize=3.5),
        Line2D([], [], marker="D", linestyle="-", color=scheme.blue, markersize=5),
        Line2D([], [], linestyle=":", color=scheme.text, linewidth=0.9),
    ]
    legend_below(
        figure,
        key,
        [
            "each seed",
            f"mean ± standard deviation of {len(config['seeds'])} seeds",
            "mean without regularisation",
        ],
        ncols=3,
    )
    figure.suptitle(title)
    return figure


def placements(results: dict, scheme: Scheme) -> Figure:
    return final_scores(results, scheme)


def cnn(results: dict, scheme: Scheme) -> Figure:
    """The convolutional network's variants on the digits."""
    return final_scores(
        results,
        scheme,
        "cnn",
        "cnn_baseline",
        "Handwritten digits, a small convolutional network:\n"
        "every placement after its last epoch",
    )


DRAW: dict[str, Callable[[dict, Scheme], Figure]] = {
    "dropout-learning-curves": dropout_curves,
    "bn-unscaled-inputs": unscaled_inputs,
    "bn-high-learning-rate": high_learning_rate,
    "placements": placements,
    "cnn-digits": cnn,
}


def render(results: dict) -> dict[str, bytes]:
    """Every figure's SVG bytes in every scheme, by file name."""
    drawn = {}
    for scheme in SCHEMES:
        with rc_context(scheme.style()):
            for stem, draw in DRAW.items():
                buffer = io.BytesIO()
                draw(results, scheme).savefig(
                    buffer, format="svg", metadata={"Date": None}
                )
                drawn[f"{stem}{scheme.suffix}.svg"] = buffer.getvalue()
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
