"""The console draws the bot's Telegram HTML from plain data: tags from a fixed set, links only to the web."""

from __future__ import annotations

import pytest

from sandbox.console.telegram_html import html_nodes, message_nodes


def test_telegram_tags_become_a_fixed_set_of_nodes() -> None:
    nodes = html_nodes(
        "<b>Police</b> <strong>alert</strong>: <i>a</i><em>b</em><u>c</u><s>d</s><del>e</del>"
        "<code>f</code><pre>g</pre><blockquote>h</blockquote><tg-spoiler>i</tg-spoiler>"
        '<span class="tg-spoiler">j</span>'
    )
    assert [n["t"] for n in nodes] == [
        "b",
        "text",
        "b",
        "text",
        "i",
        "i",
        "u",
        "s",
        "s",
        "code",
        "pre",
        "blockquote",
        "spoiler",
        "spoiler",
    ]
    assert nodes[0] == {"t": "b", "c": [{"t": "text", "v": "Police"}]}


def test_entities_are_decoded_into_text_never_into_tags() -> None:
    assert html_nodes("Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt;") == [
        {"t": "text", "v": "Tom & Jerry <script>alert(1)</script>"}
    ]


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("https://police.example/appeal", True),
        ("http://127.0.0.1/x", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,hi", False),
        ("tg://user?id=1", False),
        ("", False),
    ],
)
def test_only_web_links_keep_their_address(href: str, kept: bool) -> None:
    (link,) = html_nodes(f'<a href="{href}">appeal</a>')
    assert link["t"] == "a" and link["c"] == [{"t": "text", "v": "appeal"}]
    assert ("href" in link) is kept


def test_unknown_tags_and_attributes_carry_nothing_through() -> None:
    (node,) = html_nodes('<span style="x" onclick="steal()">hi</span>')
    assert node == {"t": "span", "c": [{"t": "text", "v": "hi"}]}
    assert html_nodes('<img src=x onerror="steal()">after') == [{"t": "span", "c": []}, {"t": "text", "v": "after"}]


def test_plain_and_markdown_messages_show_what_telegram_shows() -> None:
    assert message_nodes("<b>x</b>", "<b>x</b>", None) == [{"t": "text", "v": "<b>x</b>"}]
    assert message_nodes(r"Call 101\.", "Call 101.", "MarkdownV2") == [{"t": "text", "v": "Call 101."}]
    assert message_nodes("<b>x</b>", "x", "HTML") == [{"t": "b", "c": [{"t": "text", "v": "x"}]}]
