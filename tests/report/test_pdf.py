"""PDFs through one browser: every page printed, each PDF holding its own page, and the per-page
fallback when playwright cannot start the browser."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from recon_helpers import pdf
from recon_helpers.errors import ReportError

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("chromium") is None,
                                reason="needs chromium and pdftotext (poppler-utils)")


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def statement_pages(folder: Path, count: int) -> list[tuple[Path, Path]]:
    pages = []
    for n in range(count):
        html = folder / f"KH{n:04d}.html"
        html.write_text(f"<html><body><h1>客户 KH{n:04d}</h1><p>期末余额 {n * 100}.00</p></body></html>", encoding="utf-8")
        pages.append((html, folder / "pdf" / f"KH{n:04d}.pdf"))
    return pages


def test_one_browser_prints_every_page_into_its_own_pdf(tmp_path, monkeypatch):
    pytest.importorskip("playwright")

    def no_per_page_start(*args, **kwargs):
        raise AssertionError("html_to_pdfs started Chromium once per page although playwright works")

    monkeypatch.setattr(pdf, "html_to_pdf", no_per_page_start)
    pages = statement_pages(tmp_path, 3)
    written = pdf.html_to_pdfs(pages)
    assert written == [target for _, target in pages]
    for n, (_, target) in enumerate(pages):
        text = pdf_text(target)
        assert f"KH{n:04d}" in text and f"{n * 100}.00" in text
        assert all(f"KH{m:04d}" not in text for m in range(3) if m != n)
    assert not list((tmp_path / "pdf").glob(".*.partial"))


def test_markup_is_printed_too(tmp_path):
    target = tmp_path / "out.pdf"
    pdf.html_to_pdfs([("<html><body><p>对账单 statement 42</p></body></html>", target)])
    assert "对账单 statement 42" in pdf_text(target)


def test_without_playwright_each_page_falls_back_to_its_own_chromium(tmp_path, monkeypatch):
    def unavailable(*args, **kwargs):
        raise pdf._NoPlaywright()

    monkeypatch.setattr(pdf, "_print_with_playwright", unavailable)
    pages = statement_pages(tmp_path, 2)
    pdf.html_to_pdfs(pages)
    assert [("KH0000" in pdf_text(t), "KH0001" in pdf_text(t)) for _, t in pages] == [(True, False), (False, True)]


def test_a_missing_page_names_its_pdf(tmp_path):
    pytest.importorskip("playwright")
    with pytest.raises(ReportError, match="KH9999.pdf"):
        pdf.html_to_pdfs([(tmp_path / "gone.html", tmp_path / "KH9999.pdf")])
    assert not (tmp_path / "KH9999.pdf").exists()
