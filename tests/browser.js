// What the browser tests (tests/test_browser.py) measure on each page:
// window.siteChecks, added to every page before its own scripts run.
window.siteChecks = {
    math: () => [...document.querySelectorAll("math")].map(m => {
        const box = m.getBoundingClientRect();
        return {width: box.width, height: box.height, shown: m.checkVisibility(),
                text: m.textContent.slice(0, 40)};
    }),

    palette: palette => new Promise((shown, late) => {
        if (!document.body.dataset.mdColorScheme) return shown();  // not Material's
        setTimeout(() => late(new Error(`palette ${palette} not shown`)), 10000);
        const check = () => document.body.dataset.mdColorScheme === palette
            ? shown() : requestAnimationFrame(check);
        check();
    }),

    // Each Python block's copy button, clicked as a reader would, once the block
    // is shown (its content tab chosen, its <details> opened).
    copy: async () => {
        const copied = [];
        for (const block of document.querySelectorAll(
                ".md-content .language-python.highlight")) {
            const tabbed = block.closest(".tabbed-block");
            const details = block.closest("details");
            if (!block.checkVisibility()) {  // shown, then drawn
                if (tabbed && !tabbed.checkVisibility()) {
                    const i = [...tabbed.parentElement.children].indexOf(tabbed);
                    tabbed.closest(".tabbed-set")
                        .querySelectorAll(":scope > .tabbed-labels > label")[i].click();
                }
                if (details && !details.open) details.querySelector("summary").click();
                await new Promise(drawn => requestAnimationFrame(() => setTimeout(drawn)));
            }
            await navigator.clipboard.writeText("");
            block.querySelector("button[data-md-type=copy]").click();
            let text = "";  // the button writes the clipboard asynchronously
            for (let wait = 0; !text && wait < 400; wait++) {
                await new Promise(later => setTimeout(later, 5));
                text = await navigator.clipboard.readText();
            }
            copied.push(text);
        }
        return copied;
    },

    // At a phone's width, what reaches past the screen's right edge and is not
    // inside something that scrolls sideways (code and tables do), a table that
    // scrolls with no sign of it, and any equation that would need to scroll.
    offPhone: async () => {
        await new Promise(drawn => requestAnimationFrame(() => setTimeout(drawn)));
        const width = document.documentElement.clientWidth, off = new Set();
        for (const el of document.querySelectorAll(".md-content *")) {
            const box = el.getBoundingClientRect();
            if (!box.width || box.right <= width + 1 || !el.checkVisibility()) continue;
            let up = el.parentElement;
            for (; up && up !== document.body; up = up.parentElement) {
                const x = getComputedStyle(up).overflowX;
                if ((x === "auto" || x === "scroll") && up.scrollWidth > up.clientWidth)
                    break;
            }
            const text = el.textContent.trim().slice(0, 40);
            if (!up || up === document.body) off.add(`<${el.localName}> ${text}`);
        }
        // A table that scrolls says so (widgets.js fades its edge).
        for (const el of document.querySelectorAll(".md-typeset__scrollwrap"))
            if (el.scrollWidth > el.clientWidth + 1 && !el.matches(".scrolls-right"))
                off.add(`table that hides its scrolling: ${
                    el.textContent.trim().slice(0, 40)}`);
        // An equation does not scroll: it is split, or it fits.
        for (const el of document.querySelectorAll(".md-content div.math"))
            if (el.scrollWidth > el.clientWidth + 1)
                off.add(`equation, ${el.scrollWidth} px wide: ${
                    el.textContent.trim().slice(0, 40)}`);
        return [...off];
    },

    weight: () => {
        const code = [...performance.getEntriesByType("resource")]
            .filter(e => /\.(css|js)$/.test(new URL(e.name).pathname));
        const html = document.documentElement.outerHTML;
        const images = html.match(/data:image\/[^"')\s]+/g);
        return performance.getEntriesByType("navigation")[0].decodedBodySize
            - (images || []).reduce((bytes, image) => bytes + image.length, 0)
            + code.reduce((bytes, entry) => bytes + entry.decodedBodySize, 0);
    },

    cells: () => [document.querySelector(".md-content__inner").clientWidth,
        Math.min(...[...document.querySelectorAll(".jp-InputArea-editor")]
            .filter(cell => !cell.closest("details.solution"))  // inset on purpose
            .map(cell => cell.getBoundingClientRect().width))],

    // A text's contrast depends on its own styles and on what lies behind it. A
    // long page has some 2,000 text nodes but only about a hundred kinds, most of
    // them on every page (navigation, code, footer): the colour rules check one
    // element of each kind (same chain of ancestors' tags and classes, colour,
    // background, font size and weight) not yet checked in that colour scheme,
    // marked here with data-contrast-sample.
    sampleTexts: checked => {
        for (const element of document.querySelectorAll("[data-contrast-sample]"))
            element.removeAttribute("data-contrast-sample");
        // An element's ground and chain of ancestors, found once for all the
        // texts that it and its descendants hold.
        const once = find => {
            const found = new Map();
            return element => {
                if (!found.has(element)) found.set(element, find(element));
                return found.get(element);
            };
        };
        const background = once(element => {
            if (!element) return "none";
            const colour = getComputedStyle(element).backgroundColor;
            if (colour !== "rgba(0, 0, 0, 0)") return colour;
            return background(element.parentElement);
        });
        const ancestors = once(element => {
            if (!element || element === document.body) return "";
            const classes = [...element.classList].sort().map(c => "." + c).join("");
            const above = ancestors(element.parentElement);
            return element.tagName + classes + (above ? " < " + above : "");
        });
        const kinds = new Set(checked), added = [];
        const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (texts.nextNode()) {
            if (!texts.currentNode.textContent.trim()) continue;
            const element = texts.currentNode.parentElement;
            const style = getComputedStyle(element);
            const kind = [ancestors(element), style.color, background(element),
                          style.fontSize, style.fontWeight].join(" | ");
            if (!kinds.has(kind)) {
                kinds.add(kind);
                added.push(kind);
                element.setAttribute("data-contrast-sample", "");
            }
        }
        return added;
    },
};
