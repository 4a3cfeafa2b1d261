"""HTML mail bodies: nh3 sanitising and a readable text rendering; see docs/subsystems/email.md."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
        "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "i", "img", "ins", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"title", "dir", "lang", "align"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "font": {"color"},
}
# cid: lets inline images (Content-ID) be rewritten to attachment URLs by the renderer.
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "cid"})

_BLOCK = frozenset(
    {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote",
     "pre", "hr", "ul", "ol", "dl", "dt", "dd", "section", "article", "header", "footer"}
)  # fmt: skip
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "object"})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def sanitise_html(html: str) -> str:
    """Clean untrusted HTML for display inside OpsDesk (no scripts, styles, handlers, forms)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        clean_content_tags={"script", "style", "title", "template", "noscript"},
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
    )


def sniff_html_charset(data: bytes) -> str | None:
    """The charset from a <meta> tag in the first 4 KB, for HTML parts with no MIME label."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag in _BLOCK:
            self.chunks.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.chunks.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK or tag in {"td", "th"}:
            self.chunks.append("\n" if tag in _BLOCK else "\t")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text for HTML-only mail: block structure kept, scripts and styles dropped."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # HTMLParser on hostile markup
        pass
    text = "".join(parser.chunks).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
