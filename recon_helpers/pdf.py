"""HTML to PDF through the machine's own Chromium.

Why Chromium and not a PDF library: the statements and reports are already HTML (escaped, styled, with
Chinese text), and Chromium lays out CJK text with the system's fonts and embeds them, so a customer's
PDF looks like the page the analyst checked. Pure-Python PDF writers either cannot embed the CFF-based
Noto CJK fonts or would need a second layout of every page. Chromium runs headless, offline, with a
throwaway profile; `.ci/system-packages` installs Debian's package and fonts-noto-cjk.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from recon_helpers.errors import ReportError

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
