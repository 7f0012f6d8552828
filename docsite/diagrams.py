"""Diagrams drawn at build time, as inline SVG (pure Python, no TensorFlow).

A page with `render_macros: true` writes ``{{ diagram("<name>", ...) }}``
alone on a line; ``render`` returns one line of HTML, a ``<figure>`` with
its caption, so it may sit in a content tab. Colours are Material's CSS
variables, so one drawing serves the light and the dark scheme. Numbers
drawn come from the arguments (``docs/data/``), never from this file:
``{{ diagram("dropout-mask", data.dropout.mask_example) }}``.
"""

import math
import textwrap
from html import escape

import jinja2

CSS = "".join(
    f"svg.dg {rule}"
    for rule in """\
{display:block;margin:0 auto;font-size:14px;font-family:var(--md-text-font-family)}
text{fill:var(--md-default-fg-color)}
.m{font-family:var(--md-code-font-family);font-size:13px}
text.l{fill:var(--md-default-fg-color--light)}
text.on-p{fill:var(--md-primary-bg-color)}
text.on-a{fill:var(--md-accent-bg-color)}
rect{stroke:var(--md-default-fg-color--lighter)}
rect.b{fill:var(--md-code-bg-color)}
rect.p{fill:var(--md-primary-fg-color);stroke:none}
rect.a{fill:var(--md-accent-fg-color);stroke:none}
rect.i{fill:none;stroke-dasharray:4 3}
.ar{stroke:var(--md-default-fg-color--light);fill:none;stroke-width:1.5}
.ah{fill:var(--md-default-fg-color--light)}
.u{stroke:var(--md-accent-fg-color);stroke-dasharray:5 3}
.uh{fill:var(--md-accent-fg-color)}""".splitlines()
)
# Fills: b plain, p primary (normalisation), a accent (dropout), i dashed
# outline (an input, a zero); the class of the text drawn on each.
ON = {"b": "", "p": "on-p", "a": "on-a", "i": ""}
KINDS = {"Normalization": "p", "Dropout": "a", "Input": "i"}  # a layer's fill
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
    n = math.hypot(x2 - x1, y2 - y1)
    ux, uy = (x2 - x1) / n, (y2 - y1) / n
    bx, by = x2 - 7 * ux, y2 - 7 * uy
    corners = [(x2, y2), (bx - 4 * uy, by + 4 * ux), (bx + 4 * uy, by - 4 * ux)]
    points = " ".join(f"{x:g},{y:g}" for x, y in corners)
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


def stacks(columns, caption: str = "", notes=()) -> str:
    """A stack of layers (a list), or stacks side by side (a dict, each titled
    by its key), top to bottom, joined by arrows; notes at the right."""
    if not isinstance(columns, dict):
        columns = {"": columns}
    titled, h, gap = len(columns) > 1, 32, 18
    body, x, y0 = [], 2, 30 if titled else 2
    for title, layers in columns.items():
        w = max(150, CHAR * max(map(len, layers)) + 20)
        body.append(_text(x + w / 2, 18, title) if titled else "")
        for i, layer in enumerate(layers):
            y = y0 + i * (h + gap)
            kind = next((k for word, k in KINDS.items() if word in layer), "b")
            body.append(_box(x, y, w, h, [layer], kind))
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


def bn_modes(caption: str = "") -> str:
    """BatchNormalization's two modes as two lanes, and the moving averages
    that the training lane updates and the inference lane reads."""
    w, gap, body, mid = 170, 56, [], 0
    lanes = {
        "Training mode": ("fit", "batch x", "mean, variance\nof this batch"),
        "Inference mode": ("predict, evaluate", "x", "moving_mean,\nmoving_variance"),
    }
    rest = ["normalise\nwith them", "× γ, + β\n(learned)"]  # noqa: RUF001
    for j, (title, (calls, *boxes)) in enumerate(lanes.items()):
        x, y = 2 + j * (w + gap), 44
        body += [_text(x + w / 2, 18, title), _text(x + w / 2, 36, calls, "l m")]
        for i, box in enumerate(boxes + rest):
            lines, moving = box.split("\n"), i == 1 and j == 1
            h = 14 + 18 * len(lines)
            body.append(_arrow(x + w / 2, y - 24, x + w / 2, y - 1) if i else "")
            body.append(_box(x, y, w, h, lines, "p" if moving else "b", moving))
            mid = y + h / 2 if i == 1 else mid
            y += h + 24
    centre = 2 + w + gap / 2  # between the lanes
    body.append(_arrow(w + 4, mid, w + gap, mid, "ar u", "uh"))
    body.append(_text(centre, mid - 8, "update", "l"))
    body.append(_text(centre, y + 14, "the update, once per training batch:", "l"))
    body.append(_text(centre, y + 34, "moving = momentum · moving", "m"))
    body.append(_text(centre, y + 54, "+ (1 − momentum) · batch", "m"))  # noqa: RUF001
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
    title at its right), its notes at its right. A panel: (title, notes, rows
    of (text, fill)); a small gap after every `group` rows."""
    body, y = [], 0
    for title, notes, rows in panels:
        top, x = y + (0 if beside else 26), 16 + len(rows[0]) * cell
        at = (x, top + 12) if beside else (2, y + 16)
        body += [_text(*at, title, "m", "start"), '<g class="panel">']
        for r, row in enumerate(rows):
            ry = top + r * cell + (r // group * 6 if group else 0)
            for c, (value, kind) in enumerate(row):
                body.append(_rect(3 + c * cell, ry + 1, cell - 2, cell - 2, kind))
                if value:
                    cx, cls = 2 + (c + 0.5) * cell, f"{ON[kind]} v".strip()
                    body.append(_text(cx, ry + cell / 2 + 5, value, cls))
        body.append("</g>")
        lines = textwrap.wrap(notes, int((width - x) / (CHAR * 0.9)))
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
    panels = []
    for mask in masks:
        cells = [[(f"{v:g}", "a" if v else "i") for v in row] for row in mask["output"]]
        note = notes[next(k for k in reversed(notes) if k in mask["layer"])]
        panels.append((mask["layer"], note, cells))
    label = "Dropout masks on one example of ones, a row per time step. " + " ".join(
        f"{title}: " + "; ".join(" ".join(v for v, _ in row) for row in cells)
        for title, _, cells in panels
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
    panels = []
    for title, rows, chans, notes in AXES:
        pixel = [("", "p")] * int(chans) + [("", "b")] * (4 - int(chans))
        cells = [pixel] * int(rows) + [[("", "b")] * 4] * (6 - int(rows))
        panels.append((title, notes, cells))
    label = "What one mean and variance cover, on a batch of 2 images of 3 pixels "
    label += "and 4 channels. " + " ".join(f"{t}: {n}" for t, _, _, n in AXES)
    caption = caption or (
        "Each grid is a batch of 2 images, a row per pixel (rows 1 to 3, then "
        "4 to 6) and a column per channel, channels last. Filled cells share "
        "one mean and one variance."
    )
    return _panels(panels, label, caption, cell=16, group=3, beside=True)


DIAGRAMS = {"stack": stacks, "stacks": stacks, "bn-modes": bn_modes}
DIAGRAMS |= {"dropout-mask": dropout_mask, "norm-axes": norm_axes}


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
