"""WeasyPrint, kept to one module: it is slow to import, so only ``rendering.render_pdf``
imports this, when a PDF is first asked for."""

import mimetypes

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .rendering import LOGO_URL


class LocalOnlyURLFetcher(URLFetcher):
    """Serves WeasyPrint the template's logo from file storage and refuses every other address.

    A receipt is built from data staff and payers typed; whatever ends up in
    it, rendering must not reach the network or read the server's files.
    """

    def __init__(self, logo=None):
        super().__init__(allowed_protocols=())
        self._logo = logo

    def fetch(self, url, headers=None):
        """The logo for ``LOGO_URL``; ``ValueError`` (WeasyPrint leaves the resource out) else."""
        if url != LOGO_URL or self._logo is None:
            raise ValueError(f"Receipts load nothing from outside: refused {url[:200]}")
        with self._logo.open("rb") as logo_file:
            data = logo_file.read()
        mime_type = mimetypes.guess_type(self._logo.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, data, {"Content-Type": mime_type})


def write_pdf(html: str, *, logo=None) -> bytes:
    """``html`` as PDF bytes; ``logo`` (a FieldFile or None) is served for ``LOGO_URL``."""
    return HTML(string=html, base_url=None, url_fetcher=LocalOnlyURLFetcher(logo=logo)).write_pdf()
