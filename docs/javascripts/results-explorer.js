// The results explorer of the Results page. The reader picks an experiment,
// a score and two variants; the explorer draws each seed's final score for
// both, then their per-seed differences with the mean and its t-interval,
// computed as experiments/results.py's paired() computes them, from the
// extract that the page embeds (results_extract(), a few kB of
// docs/data/results.json). No library; nothing is fetched.
(() => {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const ROW = 26; // px per seed
  const LEFT = 62; // px for the row labels
  const RIGHT = 28;
  const NOTE = 96; // px at the right for a note that a run diverged
  const AXIS = 30; // px under the rows for the ticks
  let observer = null; // the explorer's ResizeObserver, one page at a time

  // experiments.results.number(): six significant digits; null otherwise.
  const number = (x) =>
    x !== null && Number.isFinite(x) ? Number(x.toPrecision(6)) : null;

  // A sum with Neumaier's compensation: within an ulp of the exact sum that
  // Python's statistics module takes.
  function sum(values) {
    let total = 0;
    let lost = 0;
    for (const x of values) {
      const next = total + x;
      lost +=
        Math.abs(total) >= Math.abs(x) ? total - next + x : x - next + total;
      total = next;
    }
    return total + lost;
  }

  // experiments.results.paired(a, b): the per-seed differences a - b over
  // the seeds where both are finite, their mean, and its t-interval.
  function paired(a, b, t, level) {
    const pairs = a
      .map((x, i) => [x, b[i]])
      .filter(([x, y]) => x !== null && y !== null);
    const differences = pairs.map(([x, y]) => x - y);
    const n = differences.length;
    const mean = n ? sum(differences) / n : null;
    const std =
      n > 1
        ? Math.sqrt(sum(differences.map((d) => (d - mean) ** 2)) / (n - 1))
        : null;
    const half = n > 1 ? (t[String(n - 1)] * std) / Math.sqrt(n) : null;
    return {
      level,
      n,
      mean: n ? number(mean) : null,
      std: n > 1 ? number(std) : null,
      low: n > 1 ? number(mean - half) : null,
      high: n > 1 ? number(mean + half) : null,
      below: pairs.filter(([x, y]) => x < y).length,
      above: pairs.filter(([x, y]) => x > y).length,
      values: a.map((x, i) =>
        x === null || b[i] === null ? null : number(x - b[i]),
      ),
    };
  }

  // The page's number formats (docsite/numbers.py): accuracy as a
  // percentage, its differences in points; losses with three decimals.
  const isAccuracy = (metric) => metric === "val_accuracy";
  const score = (x, metric) =>
    x === null
      ? "diverged"
      : isAccuracy(metric)
        ? `${(x * 100).toFixed(1)}%`
        : x.toFixed(3);
  function signed(x, metric) {
    const [digits, factor] = isAccuracy(metric) ? [1, 100] : [3, 1];
    let text = (x * factor).toFixed(digits);
    if (Number(text) === 0) text = (0).toFixed(digits); // no "-0.0"
    return (text.startsWith("-") ? "" : "+") + text;
  }
  // docsite.numbers.delta(): the mean, then the interval.
  function delta(d, metric) {
    const unit = isAccuracy(metric) ? " points" : "";
    const level = Math.round(d.level * 100);
    return (
      `${signed(d.mean, metric)}${unit}, ${level} % interval ` +
      `${signed(d.low, metric)} to ${signed(d.high, metric)}`
    );
  }

  function element(name, attributes = {}, text = "") {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attributes))
      node.setAttribute(key, value);
    if (text) node.textContent = text;
    return node;
  }

  function svgElement(name, attributes = {}, text = "") {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes))
      node.setAttribute(key, value);
    if (text) node.textContent = text;
    return node;
  }

  // About `count` round ticks between lo and hi.
  function ticks(lo, hi, count) {
    const rough = (hi - lo) / count;
    const magnitude = 10 ** Math.floor(Math.log10(rough));
    const ratio = rough / magnitude;
    const step =
      magnitude * (ratio >= 7.5 ? 10 : ratio >= 3.5 ? 5 : ratio >= 1.5 ? 2 : 1);
    const found = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
      found.push(Number(v.toPrecision(12)));
    return { values: found, step };
  }

  // The extent of the finite values, widened a little, never empty.
  function extent(values) {
    const finite = values.filter((v) => v !== null && Number.isFinite(v));
    if (!finite.length) return [0, 1];
    let lo = Math.min(...finite);
    let hi = Math.max(...finite);
    if (hi - lo < 1e-9) {
      const pad = Math.abs(lo) * 0.05 || 0.01;
      return [lo - pad, hi + pad];
    }
    const pad = (hi - lo) * 0.06;
    return [lo - pad, hi + pad];
  }

  // One panel: a row per label, the values placed on a shared x axis.
  // draw(row, x, y) adds the marks of one row.
  function panel(width, labels, domain, tickLabel, draw, zero = false, note = 0) {
    const height = labels.length * ROW + AXIS;
    const svg = svgElement("svg", {
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      class: "results-explorer__svg",
      "aria-hidden": "true",
      focusable: "false",
    });
    const [lo, hi] = domain;
    const span = Math.max(width - LEFT - RIGHT - note, 40);
    const x = (v) => LEFT + ((v - lo) / (hi - lo)) * span;
    const bottom = labels.length * ROW;
    const { values, step } = ticks(lo, hi, width < 480 ? 3 : 5);
    for (const v of values) {
      svg.append(
        svgElement("line", {
          x1: x(v),
          x2: x(v),
          y1: 0,
          y2: bottom,
          class: "results-explorer__grid",
        }),
        svgElement(
          "text",
          {
            x: x(v),
            y: bottom + 18,
            "text-anchor": "middle",
            class: "results-explorer__tick",
          },
          tickLabel(v, step),
        ),
      );
    }
    if (zero && lo < 0 && hi > 0)
      svg.append(
        svgElement("line", {
          x1: x(0),
          x2: x(0),
          y1: 0,
          y2: bottom,
          class: "results-explorer__zero",
        }),
      );
    labels.forEach((label, row) => {
      const y = row * ROW + ROW / 2;
      svg.append(
        svgElement(
          "text",
          { x: 0, y: y + 4, class: "results-explorer__label" },
          label,
        ),
      );
      draw(svg, row, x, y);
    });
    return svg;
  }

  const circle = (x, y) =>
    svgElement("circle", { cx: x, cy: y, r: 5.5, class: "results-explorer__a" });
  const square = (x, y) =>
    svgElement("rect", {
      x: x - 5,
      y: y - 5,
      width: 10,
      height: 10,
      class: "results-explorer__b",
    });

  function setUp(root) {
    const source = root.querySelector(".results-explorer__data");
    if (!source || root.dataset.ready) return;
    const data = JSON.parse(source.textContent);
    root.dataset.ready = "true";
    root.querySelector(".results-explorer__fallback")?.remove();

    const choices = {};
    const controls = element("div", { class: "results-explorer__controls" });
    for (const [key, text] of [
      ["group", "Experiment and data"],
      ["metric", "Score"],
      ["a", "Variant A"],
      ["b", "Variant B"],
    ]) {
      const id = `results-explorer-${key}`;
      const field = element("div", { class: "results-explorer__field" });
      const select = element("select", { id, "data-choice": key });
      field.append(element("label", { for: id }, text), select);
      controls.append(field);
      choices[key] = select;
    }
    const legend = element("p", { class: "results-explorer__legend" });
    const scoresTitle = element("p", { class: "results-explorer__title" });
    const scores = element("div", { class: "results-explorer__panel" });
    const differencesTitle = element("p", { class: "results-explorer__title" });
    const differences = element("div", { class: "results-explorer__panel" });
    const numbers = element("div", {
      class: "results-explorer__numbers",
      "aria-live": "polite",
    });
    root.append(
      controls,
      legend,
      scoresTitle,
      scores,
      differencesTitle,
      differences,
      numbers,
    );

    const fill = (select, options, chosen) => {
      select.replaceChildren(
        ...options.map(([value, text]) => element("option", { value }, text)),
      );
      const values = options.map(([value]) => value);
      select.value = values.includes(chosen) ? chosen : values[0];
    };
    const capital = (text) => text[0].toUpperCase() + text.slice(1);
    const groupOf = () => data.groups.find((g) => g.id === choices.group.value);

    // The options of the chosen experiment; the other choices kept where
    // they exist there.
    function offer() {
      const group = groupOf();
      const variants = group.variants.map((v) => [v.id, v.title]);
      fill(
        choices.metric,
        group.metrics.map((m) => [m, capital(data.metrics[m].label)]),
        choices.metric.value,
      );
      const a = choices.a.value;
      const b = choices.b.value;
      const known = (id) => group.variants.some((v) => v.id === id);
      fill(choices.a, variants, known(a) ? a : variants[1 % variants.length][0]);
      fill(choices.b, variants, known(b) ? b : variants[0][0]);
    }

    // announce: false on a resize, which changes the plots' width alone.
    function show(announce = true) {
      const group = groupOf();
      const metric = choices.metric.value;
      const [a, b] = ["a", "b"].map((k) =>
        group.variants.find((v) => v.id === choices[k].value),
      );
      const va = a.values[metric];
      const vb = b.values[metric];
      const d = paired(va, vb, data.t, data.level);
      const label = data.metrics[metric].label;
      const width = Math.max(Math.floor(root.clientWidth), 260);
      root.dataset.width = width;
      const seeds = data.seeds.map((s) => `seed ${s}`);
      const pointsOf = (v) => (isAccuracy(metric) ? v * 100 : v);

      legend.replaceChildren();
      for (const [mark, variant, key] of [
        [circle, a, "A"],
        [square, b, "B"],
      ]) {
        const swatch = svgElement("svg", {
          width: 14,
          height: 14,
          viewBox: "0 0 14 14",
          "aria-hidden": "true",
          focusable: "false",
          class: "results-explorer__key",
        });
        swatch.append(mark(7, 7));
        const item = element("span", { class: "results-explorer__item" });
        item.append(swatch, ` ${key}: ${variant.title}`);
        legend.append(item);
      }

      scoresTitle.textContent = `${capital(label)}, per seed`;
      const decimals = (step, scale) =>
        Math.max(0, -Math.floor(Math.log10(step * scale) + 1e-9));
      scores.replaceChildren(
        panel(
          width,
          seeds,
          extent([...va, ...vb]),
          (v, step) =>
            isAccuracy(metric)
              ? `${(v * 100).toFixed(decimals(step, 100))}%`
              : v.toFixed(decimals(step, 1)),
          (svg, row, x, y) => {
            const [p, q] = [va[row], vb[row]];
            if (p !== null && q !== null)
              svg.append(
                svgElement("line", {
                  x1: x(p),
                  x2: x(q),
                  y1: y,
                  y2: y,
                  class: "results-explorer__link",
                }),
              );
            if (q !== null) svg.append(square(x(q), y));
            if (p !== null) svg.append(circle(x(p), y));
            const gone = [p === null && "A", q === null && "B"].filter(Boolean);
            if (gone.length)
              svg.append(
                svgElement(
                  "text",
                  {
                    x: width - 4,
                    y: y + 4,
                    "text-anchor": "end",
                    class: "results-explorer__label",
                  },
                  `${gone.join(" and ")} diverged`,
                ),
              );
          },
          false,
          [...va, ...vb].includes(null) ? NOTE : 0,
        ),
      );

      differencesTitle.hidden = differences.hidden = d.n === 0;
      const points = isAccuracy(metric) ? " (percentage points)" : "";
      differencesTitle.textContent =
        `A minus B${points}, per seed, then their mean ` +
        `and its ${Math.round(d.level * 100)} % interval`;
      const shown = d.values.map((v) => (v === null ? null : pointsOf(v)));
      const interval = d.n > 1 ? [pointsOf(d.low), pointsOf(d.high)] : [];
      const middle = d.n ? [pointsOf(d.mean)] : [];
      differences.replaceChildren(
        panel(
          width,
          [...seeds, "mean"],
          extent([0, ...shown, ...interval, ...middle]),
          (v, step) => signed(isAccuracy(metric) ? v / 100 : v, metric),
          (svg, row, x, y) => {
            if (row < seeds.length) {
              if (shown[row] !== null)
                svg.append(
                  svgElement("circle", {
                    cx: x(shown[row]),
                    cy: y,
                    r: 4.5,
                    class: "results-explorer__difference",
                  }),
                );
              return;
            }
            if (interval.length)
              svg.append(
                svgElement("line", {
                  x1: x(interval[0]),
                  x2: x(interval[1]),
                  y1: y,
                  y2: y,
                  class: "results-explorer__interval",
                }),
                ...interval.map((v) =>
                  svgElement("line", {
                    x1: x(v),
                    x2: x(v),
                    y1: y - 6,
                    y2: y + 6,
                    class: "results-explorer__interval",
                  }),
                ),
              );
            if (middle.length) {
              const m = x(middle[0]);
              svg.append(
                svgElement("path", {
                  d: `M${m} ${y - 7}L${m + 7} ${y}L${m} ${y + 7}L${m - 7} ${y}Z`,
                  class: "results-explorer__mean",
                }),
              );
            }
          },
          true,
        ),
      );

      if (!announce) return;
      // The numbers, announced when they change.
      const summary = element("p", { class: "results-explorer__summary" });
      const total = data.seeds.length;
      if (d.n > 1) {
        summary.append(
          `A minus B over ${d.n} of ${total} seeds: `,
          element("strong", { class: "results-explorer__delta" }, delta(d, metric)),
          `. A scored below B in ${d.below} of ${d.n} seeds, above in ${d.above}.`,
        );
        Object.assign(summary.dataset, {
          n: d.n,
          mean: d.mean,
          low: d.low,
          high: d.high,
        });
      } else {
        summary.textContent =
          `A and B both trained in ${d.n} of ${total} seeds: ` +
          "too few for an interval.";
        summary.dataset.n = d.n;
      }
      const table = element("table", { class: "results-explorer__table" });
      const head = element("tr");
      for (const text of ["Seed", "A", "B", `A minus B${points}`])
        head.append(element("th", { scope: "col" }, text));
      table.append(element("thead"), element("tbody"));
      table.tHead.append(head);
      data.seeds.forEach((seed, i) => {
        const row = element("tr", { "data-seed": seed });
        row.append(element("th", { scope: "row" }, String(seed)));
        for (const [value, text] of [
          [va[i], score(va[i], metric)],
          [vb[i], score(vb[i], metric)],
          [d.values[i], d.values[i] === null ? "not paired" : signed(d.values[i], metric)],
        ])
          row.append(element("td", { "data-value": String(value) }, text));
        table.tBodies[0].append(row);
      });
      const scroll = element("div", { class: "results-explorer__scroll" });
      scroll.append(table);
      numbers.replaceChildren(summary, scroll);
    }

    const groups = data.groups.map((g) => [g.id, g.title]);
    fill(choices.group, groups, groups[0][0]);
    offer();
    choices.group.addEventListener("change", () => {
      offer();
      show();
    });
    for (const key of ["metric", "a", "b"])
      choices[key].addEventListener("change", () => show());
    show();

    observer?.disconnect();
    observer = new ResizeObserver(() => {
      if (Math.floor(root.clientWidth) !== Number(root.dataset.width))
        show(false);
    });
    observer.observe(root);
  }

  const start = () =>
    document.querySelectorAll("[data-results-explorer]").forEach(setUp);
  if (typeof document$ !== "undefined") document$.subscribe(start);
  else if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", start);
  else start();
})();
