"""Checks of the site as MkDocs builds it: the HTML files readers download.

``mkdocs build --strict`` validates the links of Markdown pages only. Pages
that plugins generate (notebooks, say), the theme's own links and anchors
into generated pages are checked here, on the built HTML, together with
what the pages weigh and two accessibility rules that need no browser.

Every function takes the built site's directory (``mkdocs build -d``) and
raises ``SiteError`` with the page at fault, relative to that directory.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from mkdocs.config import load_config

from docsite import ROOT, SiteError

# Links and resources whose target is on the site itself.
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico"}
# What a page's HTML, stylesheets and scripts (the search worker included)
# may weigh together. Images are excluded, and so is the data a page reads
# (the search index and the sitemap).
MAX_PAGE_BYTES = 500_000
BUDGETED_SUFFIXES = {".html", ".css", ".js"}


@dataclass
class Page:
    """What the checks need from one built HTML file."""

    file: str  # relative to the site directory, e.g. "dropout/index.html"
    ids: set[str] = field(default_factory=set)
    # (tag, attribute, value, line) of every href/src
    links: list[tuple[str, str, str, int]] = field(default_factory=list)
    images: list[tuple[str, str | None, int]] = field(default_factory=list)
    headings: list[tuple[int, str, int]] = field(default_factory=list)  # level
    stylesheets: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    widget_assets: list[str] = field(default_factory=list)  # from the root
    config: dict = field(default_factory=dict)  # Material's __config JSON

    @property
    def url(self) -> str:
        """The page's path as served: "", "dropout/", "404.html"."""
        return re.sub(r"(^|/)index\.html$", r"\1", self.file)

    @property
    def name(self) -> str:
        """A short name for reports and screenshots: "index", "dropout"."""
        return self.url.rstrip("/").removesuffix(".html") or "index"


class _Parser(HTMLParser):
    HEADING = re.compile(r"h([1-6])")

    def __init__(self, page: Page):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.heading: list | None = None  # [level, text parts, line]
        self.config: list[str] | None = None  # text of the __config script

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        line = self.getpos()[0]
        page = self.page
        if a.get("id"):
            page.ids.add(a["id"])
        if tag == "a" and a.get("name"):  # an old-style anchor
            page.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) is not None:
                page.links.append((tag, key, a[key], line))
        if tag == "img":
            page.images.append((a.get("src") or "", a.get("alt"), line))
        if tag == "link" and "stylesheet" in (a.get("rel") or "").split():
            page.stylesheets.append(a.get("href") or "")
        if tag == "script" and a.get("src"):
            page.scripts.append(a["src"])
        for key in ("data-script", "data-style"):  # a figure's, from widgets.js
            if a.get(key):
                page.widget_assets.append(a[key])
        if tag == "script" and a.get("id") == "__config":
            self.config = []
        if match := self.HEADING.fullmatch(tag):
            self.heading = [int(match[1]), [], line]

    def handle_endtag(self, tag):
        if self.heading and tag == f"h{self.heading[0]}":
            level, parts, line = self.heading
            self.page.headings.append((level, " ".join("".join(parts).split()), line))
            self.heading = None
        if tag == "script" and self.config is not None:
            self.page.config = json.loads("".join(self.config))
            self.config = None

    def handle_data(self, data):
        if self.heading:
            self.heading[1].append(data)
        if self.config is not None:
            self.config.append(data)


def html_files(site: Path) -> list[Path]:
    """Every HTML file of the built site."""
    return sorted(site.rglob("*.html"))


def parse(site: Path, path: Path) -> Page:
    """The built page at ``path`` in the site directory ``site``."""
    page = Page(path.relative_to(site).as_posix())
    parser = _Parser(page)
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return page


def pages(site: Path) -> dict[str, Page]:
    """Every built page, by its file name relative to ``site``."""
    return {page.file: page for page in (parse(site, p) for p in html_files(site))}


def site_url(root: Path = ROOT) -> str:
    """The site_url the site is built with (mkdocs.yml, SITE_URL)."""
    return load_config(str(root / "mkdocs.yml"))["site_url"] or ""


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
        if parts.hostname not in LOCAL_HOSTS and parts.netloc != base.netloc:
            return None
        path = parts.path or "/"
    else:  # resolved against the page's URL, as a browser does
        path = urlsplit(urljoin(f"http://site{prefix}{page.url}", link)).path
    return path.removeprefix(prefix) if path.startswith(prefix) else path[1:]


def target_file(site: Path, path: str) -> Path | None:
    """The file that the server sends for ``path``."""
    path = unquote(path)
    candidate = site / path
    if path == "" or path.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def check_links(site: Path, base_url: str | None = None) -> list[str]:
    """Every internal link of every built page reaches a file, and every
    ``#fragment`` of a link to a page is an ``id`` on that page.

    Returns the external links (other hosts), which are not fetched.
    """
    base_url = site_url() if base_url is None else base_url
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
            target = target_file(site, path)
            if target is None:
                problems.append(f"{where}: no file {path or '/'} in the site")
                continue
            fragment = unquote(urlsplit(link).fragment)
            if not fragment or tag != "a" or target.suffix != ".html":
                continue
            target_page = built[target.relative_to(site).as_posix()]
            if fragment not in target_page.ids:
                problems.append(
                    f"{where}: no element with id {fragment!r} in {target_page.file}"
                )
    if problems:
        raise SiteError("broken links in the built site:\n" + "\n".join(problems))
    return sorted(external)


def check_images(site: Path) -> None:
    """Every image has a text alternative."""
    problems = [
        f"{page.file}:{line}: <img src={src[:80]!r}> has no alt text"
        for page in pages(site).values()
        for src, alt, line in page.images
        if not (alt or "").strip()
    ]
    if problems:
        raise SiteError("\n".join(problems))


def check_headings(site: Path) -> None:
    """One h1 per page, and no heading level skipped on the way down."""
    problems = []
    for page in pages(site).values():
        h1 = [text for level, text, _ in page.headings if level == 1]
        if len(h1) != 1:
            problems.append(f"{page.file}: {len(h1)} h1 headings {h1}, expected one")
        previous = 0
        for level, text, line in page.headings:
            if level > previous + 1:
                problems.append(
                    f"{page.file}:{line}: h{level} {text!r} follows "
                    + (f"h{previous}" if previous else "no heading")
                    + f" (h{previous + 1} skipped)"
                )
            previous = level
    if problems:
        raise SiteError("headings out of order:\n" + "\n".join(problems))


def assets(site: Path, page: Page, base_url: str | None = None) -> dict[str, int]:
    """What loading ``page`` downloads from the site, images excluded, each
    file once: file relative to ``site`` -> bytes."""
    base_url = site_url() if base_url is None else base_url
    config = page.config
    root = config.get("base", ".").rstrip("/")  # the site's root, from the page
    links = ["", *page.stylesheets, *page.scripts]
    links += [f"{root}/{asset}" for asset in page.widget_assets]
    if config.get("search"):  # the search worker, and the index it reads
        links += [config["search"], f"{root}/search/search_index.json"]
    if "navigation.instant" in config.get("features", []):
        links.append(f"{root}/sitemap.xml")  # read to tell internal links
    found: dict[str, int] = {}
    for link in links:
        path = _internal_path(page, link, base_url)
        if path is None or PurePosixPath(path).suffix in IMAGE_SUFFIXES:
            continue  # another host (the offline test reports it) or an image
        target = target_file(site, path)
        if target is None:
            raise SiteError(f"{page.file}: loads {link!r}, which is not in the site")
        found[target.relative_to(site).as_posix()] = _size_without_images(target)
    return found


INLINE_IMAGE = re.compile(rb"data:image/[^\"')\s]+")


def _size_without_images(path: Path) -> int:
    """Bytes of a file, less the images inlined in it as data: URLs (the
    figures of a notebook page), which count as images."""
    if path.suffix != ".html":
        return path.stat().st_size
    content = path.read_bytes()
    return len(content) - sum(len(image) for image in INLINE_IMAGE.findall(content))


def check_weight(
    site: Path, base_url: str | None = None, limit: int = MAX_PAGE_BYTES
) -> dict[str, int]:
    """Every page loads at most ``limit`` bytes of HTML, CSS and JavaScript;
    returns page -> bytes."""
    weights = {
        file: sum(
            size
            for asset, size in assets(site, page, base_url).items()
            if PurePosixPath(asset).suffix in BUDGETED_SUFFIXES
        )
        for file, page in pages(site).items()
    }
    heavy = [
        f"{file}: {size:,} bytes (limit {limit:,})"
        for file, size in weights.items()
        if size > limit
    ]
    if heavy:
        raise SiteError("pages that load too much:\n" + "\n".join(heavy))
    return weights


WORKFLOW = Path(".github/workflows/pages.yml")


def check_workflow(root: Path = ROOT) -> None:
    """The publishing workflow tests with the README's command (.ci/run),
    and publishes what `mkdocs build --strict` built, at the address and
    with the edit links of the repository it runs in."""
    import yaml

    path = root / WORKFLOW
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    deploy = [
        j
        for j in jobs.values()
        if any("deploy-pages" in s.get("uses", "") for s in j.get("steps", []))
    ]
    if deploy and not {"pages", "id-token"} <= set(deploy[0].get("permissions", {})):
        problems.append("the deploy job lacks the pages and id-token permissions")
    if problems:
        raise SiteError(f"{WORKFLOW}: " + f"\n{WORKFLOW}: ".join(problems))
