"""Markdown in charter text, rendered to HTML that cannot run anything.

Two layers: markdown-it-py with raw HTML disabled (so typed tags show as text and
`javascript:` links are refused), then nh3 with a small allow-list of tags, attributes
and URL schemes, in case anything slipped through the first.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markupsafe import Markup

TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "a",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "blockquote",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"
# A heading in user text sits below the page's own section headings (h1, h2).
HEADING_SHIFT = 2

_md = MarkdownIt("commonmark", {"html": False})


def _image_as_text(self, tokens: list[Token], idx: int, options, env) -> str:
    """Render an image as its alt text: charters show no remote images (privacy, CSP)."""
    return escapeHtml(self.renderInlineAsText(tokens[idx].children or [], options, env))


_md.add_render_rule("image", _image_as_text)


def _shift_headings(tokens: list[Token]) -> list[Token]:
    """Demote every heading by HEADING_SHIFT levels, to at most h6."""
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + HEADING_SHIFT, 6)
            token.tag = f"h{level}"
    return tokens


def _clean(html: str) -> Markup:
    """Return sanitised HTML, marked safe for Jinja."""
    cleaned = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return Markup(cleaned)  # noqa: S704 - nh3 has just sanitised it


def render_markdown(text: str) -> Markup:
    """Return Markdown as sanitised block HTML (paragraphs, lists, quotes, headings h3-h6)."""
    if not text:
        return Markup("")
    env: dict = {}
    tokens = _shift_headings(_md.parse(text, env))
    return _clean(_md.renderer.render(tokens, _md.options, env))


def render_inline(text: str) -> Markup:
    """Return one-line Markdown (an agreement) as sanitised inline HTML, no wrapping <p>."""
    if not text:
        return Markup("")
    return _clean(_md.renderInline(text))
