"""Checks of the site as MkDocs builds it: the HTML files readers download.

``mkdocs build --strict`` validates the links of Markdown pages only. Pages
that plugins generate (notebooks, say), the theme's own links and anchors
into generated pages are checked here, on the built HTML; what a page
weighs, its headings and images are checked in the browser
(tests/test_browser.py). ``check_links`` raises ``SiteError`` with the page
at fault, relative to the site's directory (``mkdocs build -d``).
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import yaml
from mkdocs.config import load_config

from docsite import ROOT, SiteError


class Page(HTMLParser):
    """One built HTML file: its ids, and the href and src of its tags."""

    def __init__(self, site: Path, path: Path):
        super().__init__()
        self.file = path.relative_to(site).as_posix()  # "dropout/index.html"
        self.url = re.sub(r"(^|/)index\.html$", r"\1", self.file)  # as served
        self.ids: set[str] = set()
        self.links: list[tuple[str, str, str, int]] = []  # tag, attribute, value, line
        self.feed(path.read_text(encoding="utf-8"))
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):  # an old-style anchor
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) is not None:
                self.links.append((tag, key, a[key], self.getpos()[0]))


def html_files(site: Path) -> list[Path]:
    """Every HTML file of the built site."""
    return sorted(site.rglob("*.html"))


def pages(site: Path) -> dict[str, Page]:
    """Every built page, by its file name relative to ``site``."""
    return {page.file: page for page in (Page(site, p) for p in html_files(site))}


def _internal_path(page: Page, link: str, base_url: str) -> str | None:
    """The path in the site directory that ``link`` of ``page`` points to
    ("" for the site's root), or None for a link to another host.

    ``base_url`` is the site_url the site was built with: the theme writes
    some links from its path ("/repo/dropout/" for ".../repo/").
    """
    parts = urlsplit(link)
    if parts.scheme in {"mailto", "tel", "javascript", "data"}:
        return None
    base = urlsplit(base_url)
    prefix = base.path.rstrip("/") + "/"
    if parts.scheme or parts.netloc:
        local = parts.hostname in {"127.0.0.1", "localhost"}
        if not local and parts.netloc != base.netloc:
            return None
        path = parts.path or "/"
    else:  # resolved against the page's URL, as a browser does
        path = urlsplit(urljoin(f"http://site{prefix}{page.url}", link)).path
    return path.removeprefix(prefix) if path.startswith(prefix) else path[1:]


def check_links(site: Path, base_url: str | None = None) -> list[str]:
    """Every internal link of every built page reaches a file, and every
    ``#fragment`` of a link to a page is an ``id`` on that page.

    Returns the external links (other hosts), which are not fetched.
    """
    if base_url is None:  # the site_url the site is built with (SITE_URL)
        base_url = load_config(str(ROOT / "mkdocs.yml"))["site_url"] or ""
    problems, external = [], set()
    built = pages(site)
    for page in built.values():
        for tag, attribute, link, line in page.links:
            path = _internal_path(page, link, base_url)
            if path is None:
                if urlsplit(link).scheme in {"http", "https"}:
                    external.add(link)
                continue
            where = f"{page.file}:{line}: <{tag} {attribute}={link!r}>"
            target = site / unquote(path)  # the file that the server sends
            if path == "" or path.endswith("/") or target.is_dir():
                target /= "index.html"
            if not target.is_file():
                problems.append(f"{where}: no file {path or '/'} in the site")
                continue
            fragment = unquote(urlsplit(link).fragment)
            if not fragment or tag != "a" or target.suffix != ".html":
                continue
            file = target.relative_to(site).as_posix()
            if fragment not in built[file].ids:
                problems.append(f"{where}: no element with id {fragment!r} in {file}")
    if problems:
        raise SiteError("broken links in the built site:\n" + "\n".join(problems))
    return sorted(external)


WORKFLOW = Path(".github/workflows/pages.yml")


def check_workflow(root: Path = ROOT) -> None:
    """The publishing workflow tests with the README's command (.ci/run),
    and publishes what `mkdocs build --strict` built, at the address and
    with the edit links of the repository it runs in."""
    workflow = yaml.safe_load((root / WORKFLOW).read_text(encoding="utf-8"))
    jobs = workflow.get("jobs") or {}
    steps = [step for job in jobs.values() for step in job.get("steps", [])]
    runs = [step for step in steps if "run" in step]
    uses = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    problems = []
    if not any(re.search(r"(^|\s)(bash )?\.ci/run\b", s["run"]) for s in runs):
        problems.append("no step runs .ci/run, the README's test command")
    builds = [s for s in runs if "mkdocs build" in s["run"]]
    if not builds or not all("--strict" in s["run"] for s in builds):
        problems.append("the site is not built with `mkdocs build --strict`")
    for build in builds:
        env = build.get("env", {})
        for name, expected in (
            ("SITE_URL", "github.io/${{ github.event.repository.name }}/"),
            ("EDIT_URI", "/${{ github.event.repository.name }}/edit/"),
        ):
            value = str(env.get(name, ""))
            if "${{ github.repository_owner }}" not in value or expected not in value:
                problems.append(f"the build does not set {name} for this repository")
    python = uses.get("actions/setup-python", {}).get("with", {})
    if str(python.get("python-version")) != "3.12":
        problems.append("Python 3.12 is not set up with actions/setup-python")
    for action in ("actions/upload-pages-artifact", "actions/deploy-pages"):
        if action not in uses:
            problems.append(f"no step uses {action}")
    uploaded = uses.get("actions/upload-pages-artifact", {}).get("with", {})
    if not any(f"--site-dir {uploaded.get('path')}" in s["run"] for s in builds):
        problems.append("the uploaded directory is not the one built")
    triggers = workflow.get("on", workflow.get(True)) or {}  # YAML 1.1: on = True
    if "main" not in (triggers.get("push") or {}).get("branches", []):
        problems.append("pushes to main do not run it")
    if "pull_request" not in triggers:
        problems.append("pull requests do not run it")
    for job in jobs.values():
        deploys = uses.get("actions/deploy-pages") in job.get("steps", [])
        if deploys and not {"pages", "id-token"} <= set(job.get("permissions", {})):
            problems.append("the deploy job lacks the pages and id-token permissions")
    if problems:
        raise SiteError(f"{WORKFLOW}: " + f"\n{WORKFLOW}: ".join(problems))
