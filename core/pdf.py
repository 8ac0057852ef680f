"""PDF documents from HTML templates with WeasyPrint (docs/documents.md).

Templates live in `templates/documents/` and extend `documents/base.html`, whose
stylesheet names the fonts the project installs (DejaVu for Latin, Greek, Cyrillic
and Arabic; WenQuanYi Micro Hei for Chinese, Japanese and Korean), so a name in any
of these scripts renders as glyphs, not empty boxes. Arabic and Hebrew runs are
ordered right to left by Pango. Templates are rendered with the app's Jinja
environment, so `_()` translates into the locale in force (core/i18n.py).
"""

import atexit
import gc
import io
import logging
import re

import segno
from flask import Response, current_app, render_template
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

PDF_MIMETYPE = "application/pdf"
# WeasyPrint logs every rendering step and fontTools every subset table at INFO.
for _name in ("weasyprint", "weasyprint.progress", "fontTools"):
    logging.getLogger(_name).setLevel(logging.WARNING)
_fonts: FontConfiguration | None = None


def _font_config() -> FontConfiguration:
    """One font configuration per process: building it scans the system fonts
    (fontconfig), which costs more than rendering a one-page invoice."""
    global _fonts
    if _fonts is None:
        _fonts = FontConfiguration()
    return _fonts


@atexit.register
def _release_fonts() -> None:
    """Drop the cached font configuration before the interpreter tears down the
    modules: released during that teardown, its cffi handles to fontconfig crash
    the process (exit 139) after all work is done."""
    global _fonts
    _fonts = None
    gc.collect()


def render_html(template: str, **context) -> str:
    """The HTML of `templates/<template>` with `context` (for tests and previews)."""
    return render_template(template, **context)


def render_pdf(template: str, **context) -> bytes:
    """`templates/<template>` rendered with `context` as PDF bytes (PDF 1.7, fonts
    embedded and subset). Needs an app context; relative URLs resolve against the
    app's root folder."""
    html = render_template(template, **context)
    document = HTML(string=html, base_url=current_app.root_path)
    return document.write_pdf(font_config=_font_config())


def qr_svg_data_uri(data: str) -> str:
    """A QR code (never a Micro QR, which phone cameras often cannot read) of
    `data` (error correction M, never raised: ISO/IEC 18004) as an
    SVG data URI for an `<img src>`; black modules on white with the quiet zone."""
    code = segno.make_qr(data, error="m", boost_error=False)
    return code.svg_data_uri(scale=4, border=4)


def qr_png(data: str, scale: int = 8) -> bytes:
    """The same QR code as PNG bytes (for a mail attachment or a test)."""
    buffer = io.BytesIO()
    segno.make_qr(data, error="m", boost_error=False).save(
        buffer, kind="png", scale=scale, border=4
    )
    return buffer.getvalue()


def safe_filename(name: str) -> str:
    """`name` reduced to letters, digits, dot, dash and underscore (for the
    Content-Disposition filename)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "document.pdf"


def pdf_response(data: bytes, filename: str, *, download: bool = False) -> Response:
    """A PDF answer: `application/pdf`, shown inline (or as a download) under
    `filename`; private to the caller (no shared cache)."""
    disposition = "attachment" if download else "inline"
    response = Response(data, mimetype=PDF_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{safe_filename(filename)}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def wants_pdf(accept_header: str | None) -> bool:
    """True when an Accept header prefers `application/pdf` to JSON (RFC 9110
    section 12.5.1: the higher q-value wins; JSON on a tie)."""
    from werkzeug.datastructures import MIMEAccept
    from werkzeug.http import parse_accept_header

    accept = parse_accept_header(accept_header or "", MIMEAccept)
    return accept.best_match(["application/json", PDF_MIMETYPE]) == PDF_MIMETYPE
