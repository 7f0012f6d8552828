"""Diagrams drawn at build time, as inline SVG (pure Python, no TensorFlow).

A page with `render_macros: true` writes ``{{ diagram("<name>", ...) }}``
alone on a line; ``render`` returns one line of HTML, a ``<figure>`` with
its caption, so it may sit in a content tab. Colours are Material's CSS
variables, so one drawing serves the light and the dark scheme. Numbers
drawn come from the arguments (``docs/data/``), never from this file:
``{{ diagram("dropout-mask", data.dropout.mask_example) }}``.
"""

import textwrap
from html import escape

import jinja2

V = "var(--md-{})".format
CSS = "".join(
    f"svg.dg {rule}"
    for rule in [
        "{display:block;margin:0 auto;font-size:14px;"
        f"font-family:{V('text-font-family')}}}",
        f"text{{fill:{V('default-fg-color')}}}",
        f".m{{font-family:{V('code-font-family')};font-size:13px}}",
        f"text.l{{fill:{V('default-fg-color--light')}}}",
        f"text.on-p{{fill:{V('primary-bg-color')}}}",
        f"text.on-a{{fill:{V('accent-bg-color')}}}",
        f"rect{{stroke:{V('default-fg-color--lighter')}}}",
        f"rect.b{{fill:{V('code-bg-color')}}}",
        f"rect.p{{fill:{V('primary-fg-color')};stroke:none}}",
        f"rect.a{{fill:{V('accent-fg-color')};stroke:none}}",
        "rect.i{fill:none;stroke-dasharray:4 3}",
        f".ar{{stroke:{V('default-fg-color--light')};fill:none;stroke-width:1.5}}",
        f".ah{{fill:{V('default-fg-color--light')}}}",
        f".u{{stroke:{V('accent-fg-color')};stroke-dasharray:5 3}}",
        f".uh{{fill:{V('accent-fg-color')}}}",
    ]
)
# Fills: b plain, p primary (normalisation), a accent (dropout), i dashed
# outline (an input, a zero); the class of the text drawn on each.
ON = {"b": "", "p": "on-p", "a": "on-a", "i": ""}
CHAR = 8.0  # a generous width of one character at 14 px, for layout


def _text(x, y, s, cls="", anchor="middle"):
    """Text as character references: in a content tab the figure is inline
    HTML, whose text Markdown would otherwise mark up (a glossary <abbr>)."""
    c = f' class="{cls}"' if cls else ""
    s = "".join(f"&#{ord(char)};" for char in s)
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}"{c}>{s}</text>'


def _rect(x, y, w, h, kind):
    return f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" class="{kind}"/>'


def _box(x, y, w, h, lines, kind="b", mono=False):
    """A rectangle with its lines of text centred in it."""
    cls = " ".join(filter(None, [ON[kind], "m" if mono else ""]))
    top = y + h / 2 - 9 * (len(lines) - 1) + 5
    texts = (_text(x + w / 2, top + 18 * i, s, cls) for i, s in enumerate(lines))
    return _rect(x, y, w, h, kind).replace("/>", ' rx="4"/>') + "".join(texts)


def _arrow(x1, y1, x2, y2, line="ar", head="ah"):
    """A straight arrow, its head a triangle (no marker, so no shared ids)."""
    n = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
    ux, uy = (x2 - x1) / n, (y2 - y1) / n
    bx, by = x2 - 7 * ux, y2 - 7 * uy
    points = (
        f"{x2:g},{y2:g} {bx - 4 * uy:g},{by + 4 * ux:g} {bx + 4 * uy:g},{by - 4 * ux:g}"
    )
    return (
        f'<path d="M{x1:g} {y1:g}L{bx:g} {by:g}" class="{line}"/>'
        f'<polygon points="{points}" class="{head}"/>'
    )


def _figure(width, height, label, body, caption):
    svg = (
        f'<svg class="dg" xmlns="http://www.w3.org/2000/svg" role="img" '
        'data-search-exclude="" '  # its caption is searched, not its labels
        f'aria-label="{escape(label)}" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}"><style>{CSS}</style>{"".join(body)}</svg>'
    )
    return f'<figure class="diagram">{svg}<figcaption>{caption}</figcaption></figure>'


def _kind(layer: str) -> str:
    if "Normalization" in layer:
        return "p"
    if "Dropout" in layer:
        return "a"
    return "i" if layer.startswith("Input") else "b"


def stacks(columns: dict, caption: str = "", notes=()) -> str:
    """Stacks of layers side by side, each titled by its key (if more than
    one), top to bottom, joined by arrows; notes at the right of the boxes."""
    titled, h, gap = len(columns) > 1, 32, 18
    body, x, y0 = [], 2, 30 if titled else 2
    for title, layers in columns.items():
        w = max(150, CHAR * max(map(len, layers)) + 20)
        body.append(_text(x + w / 2, 18, title) if titled else "")
        for i, layer in enumerate(layers):
            y = y0 + i * (h + gap)
            body.append(_box(x, y, w, h, [layer], _kind(layer)))
            body.append(_arrow(x + w / 2, y - gap, x + w / 2, y - 1) if i else "")
            if i < len(notes):
                body.append(_text(x + w + 12, y + h / 2 + 5, notes[i], "l", "start"))
        x += w + 28
    width = x - 26 + (CHAR * 0.9 * max(map(len, notes)) + 12 if notes else 0)
    height = y0 + max(map(len, columns.values())) * (h + gap) - gap + 2
    label = "; ".join(
        (f"{title}: " if titled else "") + ", then ".join(layers)
        for title, layers in columns.items()
    )
    return _figure(width, height, f"Layer stack. {label}.", body, caption)


def stack(layers, caption: str = "", notes=()) -> str:
    return stacks({"": list(layers)}, caption, notes)


def bn_modes(caption: str = "") -> str:
    """BatchNormalization's two modes as two lanes, and the moving averages
    that the training lane updates and the inference lane reads."""
    w, gap, body, mid = 170, 56, [], 0
    lanes = {
        "Training mode": ("fit", ["batch x"], ["mean, variance", "of this batch"]),
        "Inference mode": (
            "predict, evaluate",
            ["x"],
            ["moving_mean,", "moving_variance"],
        ),
    }
    rest = [["normalise", "with them"], ["× γ, + β", "(learned)"]]  # noqa: RUF001
    for j, (title, (calls, *boxes)) in enumerate(lanes.items()):
        x, y = 2 + j * (w + gap), 44
        body += [_text(x + w / 2, 18, title), _text(x + w / 2, 36, calls, "l m")]
        for i, lines in enumerate(boxes + rest):
            h, moving = 14 + 18 * len(lines), i == 1 and j == 1
            body.append(_arrow(x + w / 2, y - 24, x + w / 2, y - 1) if i else "")
            body.append(_box(x, y, w, h, lines, "p" if moving else "b", moving))
            mid = y + h / 2 if i == 1 else mid
            y += h + 24
    body.append(_arrow(w + 4, mid, w + gap, mid, "ar u", "uh"))
    body.append(_text(2 + w + gap / 2, mid - 8, "update", "l"))
    formula = [
        "the update, once per training batch:",
        "moving = momentum · moving",
        "+ (1 − momentum) · batch",  # noqa: RUF001
    ]
    body += [
        _text(2 + w + gap / 2, y + 14 + 20 * i, s, "m" if i else "l")
        for i, s in enumerate(formula)
    ]
    label = (
        "BatchNormalization. Training mode: the batch's mean and variance "
        "normalise it, then the learned gamma and beta scale and shift it, and "
        "the moving averages are updated from the batch statistics. Inference "
        "mode: the moving mean and variance normalise the input instead."
    )
    caption = caption or (
        "The same layer in its two modes. Training mode normalises with the "
        "batch's statistics and moves the moving averages towards them; "
        "inference mode normalises with the moving averages. Both then apply "
        "the same learned γ and β."  # noqa: RUF001
    )
    return _figure(2 * w + gap + 4, y + 60, label, body, caption)


def _panels(panels, label, caption, cell=26, group=0, beside=False, width=400):
    """Grids stacked vertically, each under its title (or, `beside`, with its
    title at its right), its notes at its right. A panel: {"title", "notes",
    "cells": rows of (text, fill)}; a small gap after every `group` rows."""
    body, y = [], 0
    for panel in panels:
        rows = panel["cells"]
        top, x = y + (0 if beside else 26), 16 + len(rows[0]) * cell
        at = (x, top + 12) if beside else (2, y + 16)
        body += [_text(*at, panel["title"], "m", "start"), '<g class="panel">']
        for r, row in enumerate(rows):
            ry = top + r * cell + (r // group * 6 if group else 0)
            for c, (value, kind) in enumerate(row):
                body.append(_rect(3 + c * cell, ry + 1, cell - 2, cell - 2, kind))
                if value:
                    cx, cls = 2 + (c + 0.5) * cell, f"{ON[kind]} v".strip()
                    body.append(_text(cx, ry + cell / 2 + 5, value, cls))
        body.append("</g>")
        lines = textwrap.wrap(panel["notes"], int((width - x) / (CHAR * 0.9)))
        for i, line in enumerate(lines, beside):
            body.append(_text(x, top + 14 + 18 * i, line, "", "start"))
        y = top + max(ry + cell - top, 18 * (len(lines) + beside)) + 18
    return _figure(width, y - 12, label, body, caption)


def dropout_mask(masks, caption: str = "") -> str:
    """Keras's outputs on one example of ones, (time steps, features): one
    panel per layer, zeros outlined, survivors (scaled) filled."""
    steps = len(masks[0]["output"])
    notes = {
        "Dropout": "Each value is kept or zeroed on its own.",
        "SpatialDropout1D": "Whole features (channels) are zeroed, at every step.",
        "noise_shape": f"One draw per feature, shared by the {steps} time steps: "
        "the same rule as SpatialDropout1D.",
    }
    panels = [
        {
            "title": m["layer"],
            "cells": [[(f"{v:g}", "a" if v else "i") for v in r] for r in m["output"]],
            "notes": notes[next(k for k in reversed(notes) if k in m["layer"])],
        }
        for m in masks
    ]
    label = "Dropout masks on one example of ones, a row per time step. " + " ".join(
        f"{m['layer']}: "
        + "; ".join(" ".join(f"{v:g}" for v in r) for r in m["output"])
        for m in masks
    )
    caption = caption or (
        "Rows are time steps and columns are features; the input is all ones. "
        "Filled cells were kept and scaled by 1 / (1 − rate); outlined cells "  # noqa: RUF001
        "were zeroed. These are the masks Keras drew, recorded by the tests."
    )
    return _panels(panels, label, caption)


# A layer; the rows (3 pixels per image) and channels one statistic covers.
AXES = [
    line.split("|")
    for line in """\
BatchNormalization()|6|1|One channel, over every image and pixel.
LayerNormalization()|1|4|One pixel of one image, over its channels.
LayerNormalization(axis=[1, 2, 3])|3|4|One whole image, as GroupNormalization(groups=1).
GroupNormalization(groups=2)|3|2|One image, a group of 2 channels.
GroupNormalization(groups=-1)|3|1|One channel of one image: instance normalisation.
""".splitlines()
]


def norm_axes(caption: str = "") -> str:
    """What one mean and variance of each normalisation layer cover, on
    channels-last images: 2 images of 3 pixels (H·W) and 4 channels."""
    panels = [
        {
            "title": title,
            "notes": notes,
            "cells": [
                [
                    ("", "p" if r < int(rows) and c < int(chans) else "b")
                    for c in range(4)
                ]
                for r in range(6)
            ],
        }
        for title, rows, chans, notes in AXES
    ]
    label = "What one mean and variance cover, on a batch of 2 images of 3 pixels "
    label += "and 4 channels. " + " ".join(f"{t}: {n}" for t, _, _, n in AXES)
    caption = caption or (
        "Each grid is a batch of 2 images, a row per pixel (rows 1 to 3, then "
        "4 to 6) and a column per channel, channels last. Filled cells share "
        "one mean and one variance."
    )
    return _panels(panels, label, caption, cell=16, group=3, beside=True)


DIAGRAMS = {"dropout-mask": dropout_mask, "bn-modes": bn_modes, "stack": stack}
DIAGRAMS |= {"stacks": stacks, "norm-axes": norm_axes}


def render(name: str, *args, **kwargs) -> str:
    """The diagram `name`, as one line of HTML. An undefined argument (a
    number missing from docs/data/) is reported as on the rest of the page."""
    if name not in DIAGRAMS:
        known = ", ".join(DIAGRAMS)
        raise jinja2.TemplateRuntimeError(f"unknown diagram {name!r}; known: {known}")
    for arg in [*args, *kwargs.values()]:
        if isinstance(arg, jinja2.Undefined):
            return str(arg)
    return DIAGRAMS[name](*args, **kwargs)
