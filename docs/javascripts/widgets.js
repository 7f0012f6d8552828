/* Loads the script of each interactive figure on the page shown, once: an
   element with data-script="javascripts/NAME.js" (a path from the site's
   root) asks for it. Pages without one load nothing more. Material's
   instant navigation swaps pages without a reload, so this runs for every
   page shown, through `document$`; the figures' scripts do the same. */
document$.subscribe(() => {
  for (const element of document.querySelectorAll("[data-script]")) {
    const src = new URL(element.dataset.script, __md_scope).href;
    if (document.querySelector(`script[src="${src}"]`)) continue;
    document.body.append(Object.assign(document.createElement("script"), { src }));
  }
});
