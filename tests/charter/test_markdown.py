"""Markdown in charter text: ordinary Markdown renders, hostile input renders inert."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from retro.charter.markdown import ATTRIBUTES, TAGS, render_inline, render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "![x](x onerror=alert(1))",
    '![x](https://evil.example/x.png "onerror=alert(1)")',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](<javascript:alert(1)>)",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&#58;alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    '<a href="javascript:alert(1)">x</a>',
    "<a href=https://ok.example onclick=alert(1)>x</a>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=https://evil.example></iframe>",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<p style=\"background:url('javascript:alert(1)')\">x</p>",
    "<div style=position:fixed>x</div>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    "<!-- --><script>alert(1)</script>",
    "<object data=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<base href=javascript:alert(1)//>",
    '[x](https://ok.example "title" onmouseover=alert(1))',
    '[x](https://ok.example "t\\" onmouseover=alert(1) x=\\"")',
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "> <iframe srcdoc='<script>alert(1)</script>'>",
    "- <svg/onload=alert(1)>\n- [x](javascript:alert(1))",
    "**<img src=x onerror=alert(1)>**",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "\u202e<script>alert(1)</script>",
]


class Elements(HTMLParser):
    """Collect every element and attribute of rendered HTML, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Return the elements of an HTML fragment as a browser would parse them."""
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def markup_only(html: str) -> str:
    """Return just the tags of an HTML fragment (what could run), without its text."""
    return "".join(re.findall(r"<[^>]*>", html))


def assert_inert(html: str) -> None:
    """Fail unless rendered HTML holds only allowed, harmless elements and attributes."""
    lowered = html.lower()
    for raw in ("<script", "<iframe", "<svg", "<img", "<style", "<object", "<form", "<meta"):
        assert raw not in lowered, html
    tags = markup_only(html)
    assert "javascript:" not in tags.lower(), html
    # Attribute names only: a quoted title may say "onmouseover=" as harmless text.
    names = re.sub(r'"[^"]*"', '""', tags)
    assert not re.search(r"\son\w+\s*=", names, re.IGNORECASE), html
    assert "style=" not in names.lower(), html
    for tag, attrs in elements(html):
        assert tag in TAGS, html
        allowed = ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        assert set(attrs) <= allowed, html
        href = (attrs.get("href") or "").strip().lower()
        if href:
            assert re.match(r"(https?:|mailto:|//|/|#|[\w.-]+(/|$))", href), html
            assert "script:" not in href and not href.startswith("data:"), html


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_inert(text):
    assert_inert(render_markdown(text))


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_inline_markdown_renders_inert(text):
    assert_inert(render_inline(text))


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
    ],
)
def test_raw_html_is_shown_as_text(text):
    html = render_markdown(text)
    assert "&lt;" in html
    assert elements(html) == [("p", {})]


def test_a_javascript_link_is_not_a_link():
    for text in ("[x](javascript:alert(1))", "[x](JAVASCRIPT:alert(1))", "<javascript:alert(1)>"):
        assert not [tag for tag, _attrs in elements(render_markdown(text)) if tag == "a"]


def test_the_output_is_markup_safe_for_jinja():
    assert isinstance(render_markdown("*x*"), Markup)
    assert isinstance(render_inline("*x*"), Markup)
    assert render_markdown("") == Markup("") and render_inline("") == Markup("")


# -- ordinary Markdown still works ---------------------------------------------------------


def test_emphasis_and_strong_render():
    assert render_inline("We *listen* and **decide**.") == Markup(
        "We <em>listen</em> and <strong>decide</strong>."
    )


def test_https_and_mailto_links_render_with_a_safe_rel():
    html = render_inline("[our board](https://example.org/board) or [mail](mailto:team@x.org)")
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert [link["href"] for link in links] == [
        "https://example.org/board",
        "mailto:team@x.org",
    ]
    assert {link["rel"] for link in links} == {"nofollow noopener noreferrer"}


def test_autolinks_and_link_titles_render():
    html = render_markdown('<https://example.org> and [x](https://example.org "Board")')
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert links[0]["href"] == "https://example.org"
    assert links[1]["title"] == "Board"


def test_lists_quotes_code_and_rules_render():
    html = render_markdown(
        "- one\n- two\n\n3. three\n4. four\n\n> quoted\n\n`code`\n\n```\nblock\n```\n\n---"
    )
    assert [tag for tag, _attrs in elements(html)] == [
        "ul",
        "li",
        "li",
        "ol",
        "li",
        "li",
        "blockquote",
        "p",
        "p",
        "code",
        "pre",
        "code",
        "hr",
    ]
    assert '<ol start="3">' in html


def test_headings_are_demoted_below_the_page_headings():
    html = render_markdown("# One\n\n## Two\n\n### Three\n\n#### Four\n\nSetext\n======")
    assert [tag for tag, _attrs in elements(html)] == ["h3", "h4", "h5", "h6", "h3"]


def test_line_breaks_and_paragraphs_render():
    html = render_markdown("line one  \nline two\n\nnew paragraph")
    assert [tag for tag, _attrs in elements(html)] == ["p", "br", "p"]


def test_inline_rendering_has_no_block_elements():
    html = render_inline("# not a heading\n- not a list")
    assert "<h" not in html and "<ul" not in html and "<p" not in html
    assert "# not a heading" in html


def test_images_show_only_their_alt_text():
    html = render_markdown("See ![the *team* photo](https://example.org/team.png).")
    assert html == Markup("<p>See the team photo.</p>\n")


def test_text_is_escaped_not_interpreted():
    assert render_inline("Tom & Jerry < 3 > 2") == Markup("Tom &amp; Jerry &lt; 3 &gt; 2")
