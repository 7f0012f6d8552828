/* The explorables: small figures that a reader moves, whose numbers come from
   Keras (the masks) or are computed as Keras computes them (the moving
   statistics), and that the tests compare with Keras's own values.

   Each one sits in a page as <div class="explorable" data-explorable="NAME"
   data-json='...'>, holding a short text for readers without JavaScript;
   its data, in data-json, is written from docs/data/<page>.json when the
   site is built. (Not in a <script type="application/json">: Material's
   instant navigation runs every <script> of a new page as JavaScript.)
   Instant navigation swaps pages without reloading this script, so it sets
   up the figures of every page shown through `document$`, Material's
   observable of page loads. */

// Everything in a function of its own: the site's other scripts share the
// page's global names.
(() => {
  "use strict";

  /** An element with attributes and children: h("p", {class: "x"}, "text"). */
  function h(tag, attributes = {}, ...children) {
    const svg = ["svg", "line", "polyline", "circle", "text"].includes(tag);
    const element = svg
      ? document.createElementNS("http://www.w3.org/2000/svg", tag)
      : document.createElement(tag);
    for (const [name, value] of Object.entries(attributes))
      element.setAttribute(name, value);
    element.append(...children);
    return element;
  }

  /** A labelled control in its own row: <label>text <control></label>. */
  function control(text, element) {
    return h("label", { class: "explorable__control" }, text + " ", element);
  }

  /** A number as the pages write it: a typographic minus, thousands
      separated by commas. */
  function format(value, digits) {
    const text = Math.abs(value).toLocaleString("en-GB", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    return (value < 0 && Number(text.replace(/,/g, "")) !== 0 ? "\u2212" : "") + text;
  }

  /** A number the tests read: <span data-out="name">. */
  function out(name, text) {
    return h("span", { "data-out": name }, text);
  }

  /* Dropout: the masks that Keras's Dropout(rate, noise_shape=..., seed=0)
     drew in training mode for a batch of 8 sequences of 4 time steps and 6
     features, all ones. Each mask is a string of 24 cells, time step after
     time step, "1" where the value survived. */
  function dropout(root, data) {
    const [steps, features] = data.shape;
    const rates = Object.keys(data.masks);
    // noise_shape=None, Keras's default, first.
    const shapes = Object.keys(data.masks[rates[0]]).sort((a, b) => (b === "None") - (a === "None"));
    const count = data.masks[rates[0]][shapes[0]].length;

    const rate = h("input", { type: "range", min: 0, max: rates.length - 1, step: 1 });
    rate.value = rates.indexOf("0.3");
    const shape = h("select", {}, ...shapes.map((s) => h("option", { value: s }, s)));
    const next = h("button", { type: "button", class: "md-button" }, "New mask");
    const rateShown = h("output", {}, "");
    const grid = h("table", { class: "explorable__grid" });
    const live = h("p", { "aria-live": "polite", class: "explorable__numbers" });
    root.replaceChildren(
      h(
        "div",
        { class: "explorable__controls" },
        control("rate", rate),
        rateShown,
        control("noise_shape", shape),
        next,
      ),
      grid,
      live,
    );

    let mask = 0; // which sequence of the batch is shown
    let seen = new Set(); // the masks drawn so far, with these settings

    function draw() {
      const r = rates[rate.value];
      const scale = 1 / (1 - Number(r)); // inverted dropout: survivors scaled up
      const cells = data.masks[r][shape.value][mask];
      rateShown.textContent = `Dropout(${r})`;
      rate.setAttribute("aria-valuetext", r); // the rate, not its index
      seen.add(mask);

      // The output: a row per time step, a column per feature.
      const head = h("tr", {}, h("td"));
      for (let f = 0; f < features; f++) head.append(h("th", { scope: "col" }, `f${f + 1}`));
      const rows = [head];
      for (let t = 0; t < steps; t++) {
        const row = h("tr", {}, h("th", { scope: "row" }, `t${t + 1}`));
        for (let f = 0; f < features; f++) {
          const kept = cells[t * features + f] === "1";
          row.append(h("td", { class: kept ? "kept" : "zeroed" }, kept ? format(scale, 2) : "0"));
        }
        rows.push(row);
      }
      grid.replaceChildren(
        h("caption", {}, `Mask ${mask + 1} of ${count}: the output, for an input of ones`),
        ...rows,
      );

      // An output's mean is (kept cells / all cells) x scale; averaged over
      // the masks drawn so far, it stays near the input's mean, 1.
      const meanOf = (m) => {
        const s = data.masks[r][shape.value][m];
        return (s.split("1").length - 1) / s.length * scale;
      };
      const kept = cells.split("1").length - 1;
      const running = [...seen].reduce((sum, m) => sum + meanOf(m), 0) / seen.size;
      live.replaceChildren(
        `Mask ${mask + 1}: `,
        out("kept", String(kept)),
        ` of ${cells.length} values kept, each 1 / (1 \u2212 ${r}) = `,
        out("scale", format(scale, 4)),
        "; this output's mean is ",
        out("mean", format(meanOf(mask), 3)),
        `. Mean over the ${seen.size} mask${seen.size > 1 ? "s" : ""} drawn so far: `,
        out("running", format(running, 3)),
        " (the input's mean is 1).",
      );
    }

    const restart = () => {
      seen = new Set();
      draw();
    };
    rate.addEventListener("input", restart);
    shape.addEventListener("change", restart);
    next.addEventListener("click", () => {
      mask = (mask + 1) % count; // after the last mask, the first again
      draw();
    });
    draw();
  }

  /* BatchNormalization's moving statistics, on one feature: wine's proline,
     shuffled once, in batches taken in that order epoch after epoch. Each
     update is Keras's (keras/src/layers/normalization/batch_normalization.py):
       moving = moving * momentum + batch_statistic * (1 - momentum)
     where the batch's variance is the biased one (divided by the batch size). */
  function movingStatistics(root, data) {
    const values = data.proline;
    const EPSILON = 0.001; // Keras's default
    const dataMean = values.reduce((a, b) => a + b) / values.length;
    const dataVariance = values.reduce((a, v) => a + (v - dataMean) ** 2, 0) / values.length;

    /** Each batch's mean and biased variance; the last batch may be smaller. */
    function batches(size) {
      const found = [];
      for (let i = 0; i < values.length; i += size) {
        const batch = values.slice(i, i + size);
        const mean = batch.reduce((a, b) => a + b) / batch.length;
        const variance = batch.reduce((a, v) => a + (v - mean) ** 2, 0) / batch.length;
        found.push({ mean, variance });
      }
      return found;
    }

    const momentum = h("select", {}, ...["0.9", "0.99", "0.999"].map((m) => h("option", {}, m)));
    momentum.value = "0.99"; // Keras's default
    const size = h("select", {}, ...["8", "16", "32", "64"].map((b) => h("option", {}, b)));
    size.value = "32";
    const update = h("input", { type: "range", min: 0, step: 1 });
    const updateShown = h("output", {}, "");
    const plot = h("svg", { role: "img", class: "explorable__plot" });
    const live = h("p", { "aria-live": "polite", class: "explorable__numbers" });
    root.replaceChildren(
      h(
        "div",
        { class: "explorable__controls" },
        control("momentum", momentum),
        control("batch size", size),
        control("updates", update),
        updateShown,
      ),
      plot,
      live,
    );

    let series; // the moving statistics after 0, 1, 2, ... updates

    function compute() {
      const m = Number(momentum.value);
      // Enough updates for the initial values to weigh less than 0.1%.
      const last = Math.ceil(Math.log(0.001) / Math.log(m));
      const stats = batches(Number(size.value));
      series = [{ mean: 0, variance: 1 }]; // a new layer's moving statistics
      for (let n = 0; n < last; n++) {
        const batch = stats[n % stats.length];
        const before = series[n];
        series.push({
          mean: before.mean * m + batch.mean * (1 - m),
          variance: before.variance * m + batch.variance * (1 - m),
        });
      }
      update.max = last;
      if (Number(update.value) > last) update.value = last;
    }

    function draw() {
      const m = Number(momentum.value);
      const n = Number(update.value);
      const stats = batches(Number(size.value));
      const { mean, variance } = series[n];
      const perEpoch = stats.length;
      updateShown.textContent = n
        ? `${n} (epoch ${Math.ceil(n / perEpoch)}, batch ${((n - 1) % perEpoch) + 1} of ${perEpoch})`
        : "0 (a new layer)";

      // The plot: moving mean and moving standard deviation against updates,
      // with the data's own mean and standard deviation as dotted lines.
      // Drawn at the plot's own width, so that its text keeps its size on a phone.
      const width = Math.round(Math.min(700, Math.max(300, plot.clientWidth || 600)));
      plot.setAttribute("viewBox", `0 0 ${width} 250`);
      const [left, right, top, bottom] = [48, width - 10, 12, 215];
      const last = series.length - 1;
      const high = Math.max(1100, ...series.map((s) => 1.05 * s.mean));
      const x = (i) => (left + ((right - left) * i) / last).toFixed(1);
      const y = (v) => (bottom - ((bottom - top) * v) / high).toFixed(1);
      const every = Math.max(1, Math.floor(last / 600));
      const line = (value, cls) => {
        const points = [];
        for (let i = 0; i <= last; i += every) points.push(`${x(i)},${y(value(series[i]))}`);
        return h("polyline", { points: points.join(" "), class: cls });
      };
      const level = (v, cls, label) => [
        h("line", { x1: left, x2: right, y1: y(v), y2: y(v), class: cls }),
        h("text", { x: right, y: Number(y(v)) - 5, "text-anchor": "end" }, label),
      ];
      // The first update after which the moving mean is within 1% of the
      // data's mean (it may leave that band again: each batch pulls it).
      const within = series.findIndex((s) => Math.abs(s.mean - dataMean) <= 0.01 * dataMean);
      const mark = (cx, cy) => h("circle", { cx, cy, r: 5, class: "within" });

      plot.replaceChildren(
        h("line", { x1: left, x2: left, y1: top, y2: bottom, class: "axis" }),
        h("line", { x1: left, x2: right, y1: bottom, y2: bottom, class: "axis" }),
        h("text", { x: left - 6, y: Number(y(0)) + 4, "text-anchor": "end" }, "0"),
        h("text", { x: left - 6, y: Number(y(500)) + 4, "text-anchor": "end" }, "500"),
        h("text", { x: left - 6, y: Number(y(1000)) + 4, "text-anchor": "end" }, "1,000"),
        h("text", { x: left, y: bottom + 20 }, "0"),
        h("text", { x: right, y: bottom + 20, "text-anchor": "end" }, `${last} updates`),
        ...level(dataMean, "reference", "data's mean"),
        ...level(Math.sqrt(dataVariance), "reference", "data's standard deviation"),
        line((s) => s.mean, "mean"),
        line((s) => Math.sqrt(s.variance), "std"),
        h("line", { x1: x(n), x2: x(n), y1: top, y2: bottom, class: "now" }),
        within < 0 ? "" : mark(x(within), y(series[within].mean)),
        // The legend, top left, above the data's mean.
        h("line", { x1: left + 12, x2: left + 40, y1: top + 8, y2: top + 8, class: "mean" }),
        h("text", { x: left + 48, y: top + 12 }, "moving mean"),
        h("line", { x1: left + 12, x2: left + 40, y1: top + 28, y2: top + 28, class: "std" }),
        h("text", { x: left + 48, y: top + 32 }, "\u221a moving variance"),
        mark(left + 26, top + 48),
        h("text", { x: left + 48, y: top + 52 }, "mean first within 1%"),
      );
      plot.setAttribute(
        "aria-label",
        `Moving mean and moving standard deviation of proline over ${last} updates, ` +
          `with momentum ${m} and batches of ${size.value}`,
      );

      // One example, the first wine of the order (in the first batch): the
      // layer's output for it, gamma = 1 and beta = 0, in both modes.
      const first = stats[0];
      const training = (values[0] - first.mean) / Math.sqrt(first.variance + EPSILON);
      const inference = (values[0] - mean) / Math.sqrt(variance + EPSILON);

      live.replaceChildren(
        `After ${n} update${n === 1 ? "" : "s"}, the moving mean is `,
        out("moving_mean", format(mean, 1)),
        ` (the data's: ${format(dataMean, 1)}) and the moving variance `,
        out("moving_variance", format(variance, 0)),
        ` (the data's: ${format(dataVariance, 0)}). The initial values still weigh `,
        out("weight", `${format(100 * m ** n, 1)}%`),
        `. The moving mean first comes within 1% of the data's mean `,
        out("within", within < 0 ? "in none of these updates" : `after ${within} updates`),
        `. The first wine of this order, proline ${values[0]}, comes out of the layer as `,
        out("training_output", format(training, 3)),
        " in training mode (its batch's statistics) and as ",
        out("inference_output", format(inference, 3)),
        " in inference mode (the moving statistics).",
      );
    }

    momentum.addEventListener("change", () => {
      compute();
      draw();
    });
    size.addEventListener("change", () => {
      compute();
      draw();
    });
    update.addEventListener("input", draw);
    compute();
    update.value = Math.min(90, update.max); // the Pitfalls page's 90 updates
    draw();
    let drawnAt = plot.clientWidth;
    new ResizeObserver(() => {
      if (plot.clientWidth !== drawnAt) { drawnAt = plot.clientWidth; draw(); }
    }).observe(plot);
  }

  const EXPLORABLES = { dropout, "moving-statistics": movingStatistics };

  function setUp() {
    for (const root of document.querySelectorAll("[data-explorable]")) {
      const make = EXPLORABLES[root.dataset.explorable];
      const json = root.dataset.json;
      if (!make || !json || root.dataset.ready) continue;
      root.dataset.ready = "true";
      make(root, JSON.parse(json));
    }
  }

  // Material's observable of page loads, instant navigation's included.
  if (typeof document$ !== "undefined") document$.subscribe(setUp);
  else document.addEventListener("DOMContentLoaded", setUp);
})();
