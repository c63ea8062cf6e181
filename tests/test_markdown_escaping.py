"""Markdown escapes what would be markup where it stands, and nothing else: a CommonMark renderer
(markdown-it, with GitHub's tables and strikethrough) shows any text exactly as it was."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from agentcost.renderers.markdown import escape

RENDERER = MarkdownIt("commonmark").enable("table").enable("strikethrough")
MARKUP_CHARS = "\\`*_[]()#+-.!|~<>&@:/=1) abc\n"


def shown_as_list_item(text: str) -> str:
    page = RENDERER.render("- " + escape(text))
    assert page.startswith("<ul>\n<li>") and page.endswith("</li>\n</ul>\n"), page
    return html.unescape(page.removeprefix("<ul>\n<li>").removesuffix("</li>\n</ul>\n"))


def shown_in_a_cell(text: str) -> str:
    page = RENDERER.render(f"| h |\n|---|\n| {escape(text, block=False)} |\n")
    return html.unescape(page.split("<td>")[1].split("</td>")[0])


@pytest.mark.parametrize("text", [
    "_a_ *b* `c` [link](http://x) ![img](y) <script>alert(1)</script>",
    "- item", "+ item", "# heading #", "1. first", "2) second", "> quote", "---", "===",
    "a|b", "&copy; &amp;", "~~struck~~", "\\*",
])
def test_hostile_text_shows_as_itself(text):
    assert shown_as_list_item(text) == text
    assert shown_in_a_cell(text) == text
    assert "<" not in RENDERER.render("- " + escape(text)).replace("<ul>", "").replace(
        "</ul>", "").replace("<li>", "").replace("</li>", "")  # no tag of the text's own


def test_links_are_not_made_of_bare_addresses():
    # An autolinking renderer (GitHub) links www.x, http://x and a@b: their dot, colon and at
    # are escaped, so the link is never formed.
    assert escape("www.evil.com http://evil.com a@b.co") == (
        "www\\.evil.com http\\://evil.com a\\@b.co")


def test_figures_and_names_are_left_as_they_are():
    # The old escaper wrote $51\.5695 and 2026\-11\-27: none of these could be markup.
    for text in ("$51.57 total", "2026-11-27 09:00:00 UTC -> 2026-11-27 09:01:44 UTC",
                 "web_search (3 calls)", "claude-sonnet-4-5: 12.5%", "a - b", "x # y"):
        assert escape(text, block=False) == text
    assert escape("$51.57 - $0.0597 (P50)") == "$51.57 - $0.0597 (P50)"


@given(st.text(alphabet=MARKUP_CHARS, max_size=24))
def test_any_text_of_markup_characters_shows_as_itself(text):
    if text.strip() != text or "\n" in text:  # list items are stripped single lines
        text = " ".join(text.split())
    assert shown_as_list_item(text) == text
    assert shown_in_a_cell(text) == text
