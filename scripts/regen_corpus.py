"""Regenerate the extract corpus (tests/corpus) offline from installed generator packages.

``python scripts/regen_corpus.py [--check] [--node-modules DIR]``

Needs the ``corpus`` extra (``pip install -e '.[corpus]'``: pandas, Jinja2, Sphinx, MkDocs,
mkdocs-material, Django, nbconvert, nbformat, Playwright) and the npm packages ``bootstrap``
and ``datatables.net`` + ``datatables.net-dt`` under ``--node-modules`` (default
``./node_modules``; ``npm install bootstrap datatables.net datatables.net-dt``). Sources that are
not generated from code live in ``tests/corpus/_src``. Each page goes to
``tests/corpus/<name>/page.html``, vendored CSS to ``tests/corpus/_static``, and what made it
to ``tests/corpus/manifest.json``. The cases (``cases.json``) are written by hand and never
touched. ``--check`` builds into a temporary folder and fails if anything differs.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import re
import shutil
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
SRC = CORPUS / "_src"
KINDS = {
    "pandas-plain": "document: a DataFrame table with a named index (row headers)",
    "pandas-styled": "document: a Styler table with caption, row headings and formats",
    "nbconvert-report": "document: a notebook with markdown and a DataFrame output",
    "sphinx-configuration": "document: a Sphinx page (field list, list-table, definitions)",
    "mkdocs-material": "document: a MkDocs Material page (nav, table, ordered list)",
    "mkdocs-default": "document: a MkDocs default-theme page (nav, table, ordered list)",
    "django-admin-changelist": "application: a changelist (sort headers, icons, actions)",
    "django-admin-change-form": "application: a change form (inputs, checkboxes, selects)",
    "bootstrap-dashboard": "application: a dashboard (cards, table, pagination, breadcrumb)",
    "bootstrap-checkout": "application: a checkout form and cart list",
    "datatables-staff": "application: a DataTables table (sort widgets, paging, search)",
    "datatables-no-results": "application: a DataTables table filtered to no results",
}


def _page(out: Path, name: str, html: str) -> None:
    (out / name).mkdir(parents=True, exist_ok=True)
    (out / name / "page.html").write_text(html, encoding="utf-8")


def _doc(title: str, body: str, head: str = "") -> str:
    return (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _frames() -> tuple[object, object]:
    import pandas as pd

    sales = pd.DataFrame(
        {
            "Units sold": [1250, 980, 1430, 610],
            "Revenue (EUR)": [18750.0, 14210.5, 22165.0, 8845.25],
            "Target met": [True, False, True, False],
        },
        index=pd.Index(["North", "South", "East", "West"], name="Region"),
    )
    latency = pd.DataFrame(
        {"p50 ms": [12.5, 40.0, 8.25], "p99 ms": [48.0, 210.5, 30.0], "Errors": [0, 7, 1]},
        index=["GET /orders", "POST /orders", "GET /health"],
    )
    return sales, latency


def pandas_pages(out: Path) -> dict[str, str]:
    sales, latency = _frames()
    plain = sales.to_html()  # type: ignore[attr-defined]
    _page(out, "pandas-plain", _doc("Regional sales", f"<h1>Regional sales Q1</h1>\n{plain}"))
    styler = latency.style.set_uuid("corpus")  # type: ignore[attr-defined]
    styler = styler.format({"p50 ms": "{:.1f}", "p99 ms": "{:.1f}"}).set_caption("API latency")
    styled = styler.highlight_max(subset=["Errors"], color="#fdd").to_html()
    _page(out, "pandas-styled", _doc("API latency", f"<h1>Service health</h1>\n{styled}"))
    gen = f"pandas {version('pandas')}"
    return {"pandas-plain": f"{gen} (DataFrame.to_html)", "pandas-styled": f"{gen} (Styler)"}


def nbconvert_page(out: Path) -> dict[str, str]:
    import nbformat
    from nbconvert import HTMLExporter

    sales, _ = _frames()
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("df = load_sales()\ndf", execution_count=1)
    code.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={"text/html": sales.to_html(), "text/plain": str(sales)},  # type: ignore[attr-defined]
            execution_count=1,
        )
    ]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Sales report\n\n**Author:** Data team  \n**Quarter:** Q1"),
        code,
        nbformat.v4.new_markdown_cell("## Next steps\n\n- Call the West team\n- Refresh targets"),
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i + 1}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    _page(out, "nbconvert-report", _strip_scripts(_offline(html)))
    return {"nbconvert-report": f"nbconvert {version('nbconvert')} (lab template)"}


def _offline(html: str) -> str:
    """Leave out what the page would fetch from the internet (CDN scripts and styles)."""
    html = re.sub(r'<script[^>]*src="https?://[^"]*"[^>]*>\s*</script>\s*', "", html)
    return re.sub(r'<link[^>]*href="https?://[^"]*"[^>]*>\s*', "", html)


def _inline_css(html: str, base: Path) -> str:
    """Put the page's local stylesheets inline, so the saved page renders on its own."""

    def inline(match: re.Match[str]) -> str:
        found = re.search(r'href="([^"]+)"', match.group(0))
        if not found or "stylesheet" not in match.group(0):
            return match.group(0)
        href = found.group(1).split("?")[0]
        path = base / href
        if not path.is_file():
            return match.group(0)
        css = path.read_text(encoding="utf-8")
        css = re.sub(r"@import url\([^)]*\);?", "", css)
        return f"<style>\n{css}\n</style>"

    return re.sub(r"<link\b[^>]*>", inline, html)


def _strip_scripts(html: str) -> str:
    return re.sub(r"<script\b[^>]*>.*?</script>\s*", "", html, flags=re.S)


def sphinx_page(out: Path) -> dict[str, str]:
    from sphinx.cmd.build import build_main

    with tempfile.TemporaryDirectory() as tmp:
        code = build_main(["-q", "-b", "html", "-E", str(SRC / "sphinx"), tmp])
        assert code == 0, "sphinx-build failed"
        html = (Path(tmp) / "configuration.html").read_text(encoding="utf-8")
        html = _strip_scripts(_inline_css(html, Path(tmp)))
    _page(out, "sphinx-configuration", html)
    return {"sphinx-configuration": f"sphinx {version('sphinx')} (alabaster theme)"}


def mkdocs_pages(out: Path) -> dict[str, str]:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    made = {}
    for theme, name in (("material", "mkdocs-material"), ("mkdocs", "mkdocs-default")):
        with tempfile.TemporaryDirectory() as tmp:
            config = load_config(
                str(SRC / "mkdocs" / "mkdocs.yml"), theme={"name": theme}, site_dir=tmp
            )
            build(config)
            html = (Path(tmp) / "on-call.html").read_text(encoding="utf-8")
            html = _strip_scripts(_inline_css(_offline(html), Path(tmp)))
        html = re.sub(r"<!--.*?-->\s*", "", html, flags=re.S)
        _page(out, name, html)
        pkg = "mkdocs-material" if theme == "material" else "mkdocs"
        made[name] = f"mkdocs {version('mkdocs')}, theme {theme} ({pkg} {version(pkg)})"
    return made


def bootstrap_pages(out: Path, node_modules: Path) -> dict[str, str]:
    pkg = node_modules / "bootstrap"
    dest = out / "_static" / "bootstrap"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pkg / "dist" / "css" / "bootstrap.min.css", dest / "bootstrap.min.css")
    ver = json.loads((pkg / "package.json").read_text(encoding="utf-8"))["version"]
    made = {}
    for name in ("bootstrap-dashboard", "bootstrap-checkout"):
        _page(out, name, (SRC / f"{name}.html").read_text(encoding="utf-8"))
        made[name] = f"bootstrap {ver} (npm; markup after its dashboard/checkout examples)"
    return made


def datatables_pages(out: Path, node_modules: Path) -> dict[str, str]:
    """Let DataTables build its DOM in Chromium, then save that DOM without the script."""
    from playwright.sync_api import sync_playwright

    pkg = node_modules / "datatables.net"
    css = node_modules / "datatables.net-dt" / "css" / "dataTables.dataTables.min.css"
    dest = out / "_static" / "datatables"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(css, dest / css.name)
    source = (SRC / "datatables.html").read_text(encoding="utf-8")
    script = (pkg / "js" / "dataTables.min.js").read_text(encoding="utf-8")
    searches = {"datatables-staff": "", "datatables-no-results": "zzz"}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"))
        page = browser.new_page()
        for name, search in searches.items():
            page.set_content(source)
            page.add_script_tag(content=script)
            page.evaluate(
                "(q) => { new DataTable('#staff', {pageLength: 5}).search(q).draw();"
                " document.querySelector('.dt-search input').setAttribute('value', q); }",
                search,
            )
            html = "<!doctype html>\n" + page.evaluate("document.documentElement.outerHTML")
            _page(out, name, _strip_scripts(html) + "\n")
        browser.close()
    ver = json.loads((pkg / "package.json").read_text(encoding="utf-8"))["version"]
    return dict.fromkeys(searches, f"datatables.net {ver} (npm; DOM after init)")


def build_all(out: Path, node_modules: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import regen_corpus_django

    made: dict[str, str] = {}
    made |= pandas_pages(out)
    made |= nbconvert_page(out)
    made |= sphinx_page(out)
    made |= mkdocs_pages(out)
    made |= regen_corpus_django.render(out)
    made |= bootstrap_pages(out, node_modules)
    made |= datatables_pages(out, node_modules)
    manifest = {name: {"generator": made[name], "kind": KINDS[name]} for name in sorted(made)}
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (out / "manifest.json").write_text(text, encoding="utf-8")


def _differences(built: Path) -> list[str]:
    diffs = []
    for path in sorted(built.rglob("*")):
        if path.is_file():
            rel = path.relative_to(built)
            have = CORPUS / rel
            if not have.is_file() or not filecmp.cmp(path, have, shallow=False):
                diffs.append(str(rel))
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the saved corpus differs")
    parser.add_argument("--node-modules", type=Path, default=Path("node_modules"))
    args = parser.parse_args(argv)
    if not args.check:
        build_all(CORPUS, args.node_modules.resolve())
        sys.stdout.write(f"corpus written to {CORPUS}\n")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build_all(Path(tmp), args.node_modules.resolve())
        diffs = _differences(Path(tmp))
    for rel in diffs:
        sys.stdout.write(f"differs: {rel}\n")
    sys.stdout.write("corpus up to date\n" if not diffs else f"{len(diffs)} files differ\n")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
