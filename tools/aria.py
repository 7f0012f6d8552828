"""MkDocs hook: give two of Material's elements the accessible name that
its templates leave out.

The search overlay is a `role="dialog"` and the loading bar of instant
navigation a `role="progressbar"`; both need an `aria-label` for a screen
reader to announce them (axe-core rules aria-dialog-name and
aria-progressbar-name, checked by tests/test_browser.py).
"""

NAMES = {
    '<div class="md-search" data-md-component="search" role="dialog">': "Search",
    '<div class="md-progress" data-md-component="progress" role="progressbar">': (
        "Loading page"
    ),
}


def add_names(html: str) -> str:
    for tag, name in NAMES.items():
        html = html.replace(tag, f'{tag[:-1]} aria-label="{name}">')
    return html


def on_post_page(output, page, config):
    return add_names(output)


def on_post_template(output_content, template_name, config):
    # 404.html is rendered from a theme template, not from a page.
    if template_name.endswith(".html"):
        return add_names(output_content)
    return output_content
