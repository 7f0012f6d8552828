"""Reading and checking the results file; no TensorFlow needed."""

import json
import math
import re
import statistics
from pathlib import Path

import jsonschema

SCHEMA = Path(__file__).with_name("results.schema.json")


def number(value: float) -> float | None:
    """Six significant digits; None for NaN or infinity (JSON has neither)."""
    value = float(value)
    return float(f"{value:.6g}") if math.isfinite(value) else None


def summarise(runs: list[dict]) -> dict:
    """experiment -> dataset -> variant -> score -> mean, std, per-seed values."""
    cells: dict = {}
    for run in runs:
        cell = cells.setdefault(run["experiment"], {}).setdefault(run["dataset"], {})
        for key, value in run["final"].items():
            cell.setdefault(run["variant"], {}).setdefault(key, []).append(value)
    for datasets_ in cells.values():
        for variants in datasets_.values():
            for scores in variants.values():
                for key, values in scores.items():
                    finite = [v for v in values if v is not None]
                    scores[key] = {
                        "mean": number(statistics.mean(finite)) if finite else None,
                        "std": number(statistics.stdev(finite))
                        if len(finite) > 1
                        else None,
                        "finite": len(finite),
                        "values": values,
                    }
    return cells


# The 97.5 % quantile of Student's t distribution by degrees of freedom: the
# half-width of a two-sided 95 % interval, in standard errors.
LEVEL = 0.95
T_975 = {
    1: 12.7062,
    2: 4.30265,
    3: 3.18245,
    4: 2.77645,
    5: 2.57058,
    6: 2.44691,
    7: 2.36462,
    8: 2.306,
    9: 2.26216,
    10: 2.22814,
}


def paired(a: list, b: list) -> dict:
    """The per-seed differences a - b (each seed: the same split for both),
    over the seeds where both are finite: their mean, standard deviation and
    95 % t-interval for the mean, and in how many seeds a is below b."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if None not in (x, y)]
    differences = [x - y for x, y in pairs]
    n = len(differences)
    mean = statistics.mean(differences) if n else None
    std = statistics.stdev(differences) if n > 1 else None
    half = T_975[n - 1] * std / math.sqrt(n) if n > 1 else None
    return {
        "level": LEVEL,
        "n": n,
        "mean": number(mean) if n else None,
        "std": number(std) if n > 1 else None,
        "low": number(mean - half) if n > 1 else None,
        "high": number(mean + half) if n > 1 else None,
        "below": sum(x < y for x, y in pairs),
        "values": [number(d) for d in differences],
    }


def compare(comparisons: dict, summary: dict) -> dict:
    """name -> the paired differences of each comparison in the configuration:
    a (experiment, dataset, variant) minus b, on one score."""

    def values(cell: list, score: str) -> list:
        experiment, dataset, variant = cell
        return summary[experiment][dataset][variant][score]["values"]

    return {
        name: paired(values(c["a"], c["score"]), values(c["b"], c["score"]))
        for name, c in comparisons.items()
    }


def dump(results: dict) -> str:
    """Indented JSON, with each list of numbers kept on one line."""
    text = json.dumps(results, indent=1, ensure_ascii=False)
    return re.sub(r"\[([^\[\]{}\"]*)\]", lambda m: f"[{' '.join(m[1].split())}]", text)


class ResultsError(ValueError):
    """The results file is malformed; the message starts with its path."""


def check(results: dict, where: str) -> None:
    """Validate against the schema, then what a schema cannot say: every run
    the configuration plans is there once, every curve has one value per
    epoch, and the summary is exactly the one the runs give."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(results)
    )
    if error is not None:
        raise ResultsError(f"{where}: {error.json_path}: {error.message}")
    config = results["config"]
    unknown = sorted(
        {d for s in config["experiments"].values() for d in s["datasets"]}
        - set(config["datasets"])
        | {v for s in config["experiments"].values() for v in s["variants"]}
        - set(config["variants"])
    )
    if unknown:
        raise ResultsError(f"{where}: experiments use undefined {unknown}")
    planned = [
        (name, dataset, variant, seed)
        for name, setup in config["experiments"].items()
        for dataset in setup["datasets"]
        for variant in setup["variants"]
        for seed in config["seeds"]
    ]
    found = [
        (r["experiment"], r["dataset"], r["variant"], r["seed"])
        for r in results["runs"]
    ]
    if found != planned:
        missing = sorted(set(planned) - set(found))
        extra = sorted(set(found) - set(planned))
        raise ResultsError(
            f"{where}: runs do not match the configuration "
            f"(missing {missing[:3]}, unexpected {extra[:3]}, or out of order)"
        )
    for run in results["runs"]:
        epochs = (
            config["epochs_override"] or config["datasets"][run["dataset"]]["epochs"]
        )
        for key, values in run["history"].items():
            if len(values) != epochs:
                raise ResultsError(
                    f"{where}: {run['experiment']}/{run['dataset']}/{run['variant']}"
                    f" seed {run['seed']}: {key} has {len(values)} epochs, not {epochs}"
                )
    if results["summary"] != summarise(results["runs"]):
        raise ResultsError(f"{where}: the summary does not match the runs")
    for name, c in config["comparisons"].items():
        for cell in (c["a"], c["b"]):
            score = results["summary"]
            for key in (*cell, c["score"]):
                score = score.get(key, {})
            if not score:
                raise ResultsError(
                    f"{where}: comparison {name}: no {c['score']} for {cell}"
                )
    if results["differences"] != compare(config["comparisons"], results["summary"]):
        raise ResultsError(f"{where}: the differences do not match the runs")
    merged = [name for s in results.get("merged", []) for name in s["experiments"]]
    if len(set(merged)) != len(merged) or set(merged) - set(config["experiments"]):
        raise ResultsError(
            f"{where}: merged batches name an unknown experiment, or one twice"
        )


def read(path: Path) -> dict:
    """The results file at `path`, checked."""
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path}: {error}") from None
    check(results, str(path))
    return results


# The scores the results page's explorer offers, in this order, where a
# dataset has them: label, and whether lower is better.
EXPLORED = {
    "val_loss": ("final validation loss", True),
    "val_accuracy": ("final validation accuracy", False),
    "best_val_loss": ("lowest validation loss along the way", True),
}


def extract(results: dict) -> dict:
    """The few kB of the results file that the results page's explorer needs:
    each experiment's datasets, with each variant's per-seed final scores,
    and the t quantiles that `paired` uses, so that the page computes the
    same differences and intervals."""
    config, summary = results["config"], results["summary"]
    groups = []
    for name, setup in config["experiments"].items():
        for dataset in setup["datasets"]:
            cells = summary[name][dataset]
            metrics = [m for m in EXPLORED if all(m in c for c in cells.values())]
            title = f"{setup['title']}: {config['datasets'][dataset]['title']}"
            groups.append(
                {
                    "id": f"{name}/{dataset}",
                    "title": title,
                    "metrics": metrics,
                    "variants": [
                        {
                            "id": v,
                            "title": config["variants"][v]["title"],
                            "values": {m: cells[v][m]["values"] for m in metrics},
                        }
                        for v in setup["variants"]
                    ],
                }
            )
    return {
        "seeds": config["seeds"],
        "level": LEVEL,
        "t": {str(df): t for df, t in T_975.items()},
        "metrics": {
            m: {"label": label, "lower": lower}
            for m, (label, lower) in EXPLORED.items()
        },
        "groups": groups,
    }
