/* Page behaviours of the site's own, for every page shown (Material's
   instant navigation swaps pages without a reload, so through `document$`):

   - the script and stylesheet of each interactive figure on the page,
     loaded once: an element with data-script="javascripts/NAME.js" and
     data-style="stylesheets/NAME.css" (paths from the site's root) asks
     for them, so pages without one load nothing more;
   - a table wider than the column fades out at the edge it can still
     scroll to, so that a reader sees there is more. */
function markScrolling() {
  for (const wrap of document.querySelectorAll(".md-typeset__scrollwrap")) {
    const end = wrap.scrollWidth - wrap.clientWidth - 1;
    wrap.classList.toggle("scrolls-right", wrap.scrollLeft < end);
    wrap.classList.toggle("scrolls-left", end > 0 && wrap.scrollLeft > 1);
  }
}

document$.subscribe(() => {
  for (const element of document.querySelectorAll("[data-style]")) {
    const href = new URL(element.dataset.style, __md_scope).href;
    if (document.querySelector(`link[href="${href}"]`)) continue;
    const link = Object.assign(document.createElement("link"), { href });
    document.head.append(Object.assign(link, { rel: "stylesheet" }));
  }
  for (const element of document.querySelectorAll("[data-script]")) {
    const src = new URL(element.dataset.script, __md_scope).href;
    if (document.querySelector(`script[src="${src}"]`)) continue;
    document.body.append(Object.assign(document.createElement("script"), { src }));
  }
  for (const wrap of document.querySelectorAll(".md-typeset__scrollwrap"))
    wrap.addEventListener("scroll", markScrolling, { passive: true });
  markScrolling();
});
window.addEventListener("resize", markScrolling, { passive: true });
