"""HTML to PDF through the machine's own Chromium.

Why Chromium and not a PDF library: the statements and reports are already HTML (escaped, styled, with
Chinese text), and Chromium lays out CJK text with the system's fonts and embeds them, so a customer's
PDF looks like the page the analyst checked. Pure-Python PDF writers either cannot embed the CFF-based
Noto CJK fonts or would need a second layout of every page. Chromium runs headless, offline, with a
throwaway profile; `.ci/system-packages` installs Debian's package and fonts-noto-cjk.

Many pages at once (a month's statements, one per customer) go through :func:`html_to_pdfs`: one
Chromium, started once and driven by playwright (the machine's own binary via ``executable_path``; no
browser is downloaded), prints them all, because starting Chromium costs about two seconds per page.
Where playwright cannot start it, each page falls back to :func:`html_to_pdf` (one start per page).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from recon_helpers.errors import ReportError

T = TypeVar("T")

#: Looked for in this order; ``$RECON_CHROMIUM`` wins over all of them.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

#: Flags for a headless start on a closed network (no first-run, sync, update or background traffic).
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
)


def find_browser() -> Path:
    """The Chromium binary to use; a clear error naming what to install when there is none."""
    wanted = os.environ.get("RECON_CHROMIUM")
    if wanted:
        path = Path(wanted)
        if not path.is_file():
            raise ReportError(f"RECON_CHROMIUM points at {wanted!r}, which is not a file: point it at a Chromium binary")
        return path
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ReportError(
        "PDF export needs Chromium and none was found: install it (Debian/Ubuntu: apt-get install chromium "
        "fonts-noto-cjk, or run .ci/system-packages as root) or set RECON_CHROMIUM to a Chromium binary"
    )


def html_to_pdf(html: str | Path, pdf: str | Path, *, timeout: float = 120.0) -> Path:
    """Render ``html`` (markup, or the path of an .html file) to ``pdf``; returns the PDF's path.

    The PDF is written next to its final name and renamed into place, so a failed or killed render
    never leaves half a file under the final name.
    """
    target = Path(pdf)
    target.parent.mkdir(parents=True, exist_ok=True)
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="recon-pdf-") as scratch:
        scratch_dir = Path(scratch)
        if isinstance(html, Path):
            page = html.resolve()
        else:
            page = scratch_dir / "page.html"
            page.write_text(html, encoding="utf-8")
        partial = target.with_name(f".{target.name}.partial")
        command = [
            str(browser),
            *HEADLESS_FLAGS,
            f"--user-data-dir={scratch_dir / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={partial}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            partial.unlink(missing_ok=True)
            raise ReportError(f"Chromium did not finish the PDF {target.name} within {timeout:.0f} s") from exc
        if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
            partial.unlink(missing_ok=True)
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ReportError(f"Chromium could not write the PDF {target.name} (exit {done.returncode}): {detail[0]}")
        os.replace(partial, target)
    return target


#: playwright adds ``--headless`` itself, and keeps its own throwaway profile
_PLAYWRIGHT_FLAGS = tuple(flag for flag in HEADLESS_FLAGS if flag != "--headless")


class _NoPlaywright(Exception):
    """playwright is not installed or could not start the browser: print page by page instead."""


def html_to_pdfs(pages: Sequence[tuple[str | Path, str | Path]], *, timeout: float = 120.0) -> list[Path]:
    """Render every ``(html, pdf)`` pair (markup or an .html path -> the PDF's path) through one browser.

    Same output as :func:`html_to_pdf` for each page (A4 or the page's ``@page`` size, no header or
    footer line, written atomically), but Chromium starts once for all of them. Falls back to one
    :func:`html_to_pdf` per page when playwright is missing or cannot start the browser.

    Raises
    ------
    ReportError
        Chromium is missing, or a page could not be printed (its PDF name is in the message).
    """
    if not pages:
        return []
    browser = find_browser()
    try:
        return _in_own_thread(lambda: _print_with_playwright(pages, browser, timeout))
    except _NoPlaywright:
        return [html_to_pdf(html, pdf, timeout=timeout) for html, pdf in pages]


def _in_own_thread(work: Callable[[], T]) -> T:
    """Run ``work`` in a thread of its own: playwright's sync API refuses a thread that runs an asyncio
    loop, which is the case in a Jupyter kernel (where the statement notebook prints its PDFs)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed back to the caller's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="recon-pdf", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _print_with_playwright(pages: Sequence[tuple[str | Path, str | Path]], browser: Path, timeout: float) -> list[Path]:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise _NoPlaywright() from exc
    try:
        session = sync_playwright().start()
    except Exception as exc:  # the playwright driver itself cannot run here
        raise _NoPlaywright() from exc
    try:
        try:
            chromium = session.chromium.launch(executable_path=str(browser), args=list(_PLAYWRIGHT_FLAGS), timeout=timeout * 1000)
        except PlaywrightError as exc:
            raise _NoPlaywright() from exc
        try:
            context = chromium.new_context(offline=True)
            # a statement is self-contained: nothing but the page's own file may load
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
            page = context.new_page()
            with tempfile.TemporaryDirectory(prefix="recon-pdf-") as scratch:
                return [_print_one(page, html, Path(pdf), Path(scratch) / f"page{n}.html", timeout, PlaywrightError)
                        for n, (html, pdf) in enumerate(pages)]
        finally:
            chromium.close()
    finally:
        session.stop()


def _print_one(page: Any, html: str | Path, target: Path, scratch: Path, timeout: float, error: type[Exception]) -> Path:
    """One page through the open browser, as ``--print-to-pdf`` prints it; atomic under its final name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(html, Path):
        source = html.resolve()
    else:
        scratch.write_text(html, encoding="utf-8")
        source = scratch
    partial = target.with_name(f".{target.name}.partial")
    try:
        page.goto(source.as_uri(), wait_until="load", timeout=timeout * 1000)
        page.pdf(path=str(partial), prefer_css_page_size=True, print_background=True)
    except error as exc:
        partial.unlink(missing_ok=True)
        first = str(exc).strip().splitlines()[:1] or ["no detail"]
        raise ReportError(f"Chromium could not write the PDF {target.name}: {first[0]}") from exc
    if not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        raise ReportError(f"Chromium wrote an empty PDF for {target.name}: open its HTML to check the page")
    os.replace(partial, target)
    return target
