"""Finding elements in rendered HTML by CSS selector, for tests that read markup."""

from bs4 import BeautifulSoup


def elements(html: str, selector: str):
    return BeautifulSoup(html, "html.parser").select(selector)


def element(html: str, selector: str):
    """The one element ``selector`` matches; fails if it matches none or several."""
    found = elements(html, selector)
    assert len(found) == 1, f"{selector!r} matched {len(found)} elements"
    return found[0]


def child(tag, selector: str):
    """The one child of ``tag`` that ``selector`` matches."""
    found = tag.select(f":scope > {selector}")
    assert len(found) == 1, f"{selector!r} matched {len(found)} children"
    return found[0]


def classes(tag) -> str:
    return " ".join(tag.get("class", []))


def text(tag) -> str:
    """The text a person reads: runs of white space as one space."""
    return " ".join(tag.get_text(" ").split())
