"""Read a column page: its dated entries, and its links with their text and place.

A small regex tokenizer rather than ``html.parser``: government pages are rarely valid
HTML anyway, and the checks read thousands of pages a minute (html.parser took half of
a column check's CPU time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from html import unescape

#: 2021-06-30, 2021/6/30, 2021.06.30, 2021年6月30日 (the separators of Chinese column lists).
#: The year's first two digits come first (a lookbehind first would make the regex engine
#: try every position); ``(?<!\d\d\d)`` after them is "no digit before the year".
DATE = re.compile(
    r"((?:20|19)(?<!\d\d\d)\d{2})\s*(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d)"
    r"|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日)"
)
#: One '<' then the alternatives, case-insensitive only in the tag name (cheaper to scan).
_TAG = r"<(?:!--.*?-->|(/?)((?i:{names}))\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>)"
_STRUCTURE = "li|tr|dd|dt|ul|ol|table|dl|div|p|section|article|script|style|noscript|template"
_LINKS = "a|h[1-4]|caption|legend|title|nav|header|footer|main|aside"
#: Only the tags the reader acts on; others stay in the text and are stripped from it.
TAG = re.compile(_TAG.format(names=f"{_STRUCTURE}|{_LINKS}"), re.DOTALL)
#: Dates need only the structure (half the tokens of a typical page: links are most of them).
STRUCTURE_TAG = re.compile(_TAG.format(names=_STRUCTURE), re.DOTALL)
A_HREF = re.compile(r"<a\s[^>]*href", re.IGNORECASE)
OTHER_TAG = re.compile(r"<[^>]*>")
HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
ROWS = frozenset({"li", "tr", "dd", "dt"})
LISTS = frozenset({"ul", "ol", "table", "dl"})
SKIPPED = frozenset({"script", "style", "noscript", "template"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "caption", "legend"})
#: Lists built of blocks (<div class="item"><a>…</a><span>2021-07-01</span></div>).
BLOCKS = frozenset({"div", "p", "section", "article"})
#: "今天是2021年7月19日 星期一" in a page's top bar is a calendar, not an entry.
CALENDAR = re.compile(r"今天|今日|星期|礼拜|当前日期|当前时间")
LANDMARKS = frozenset({"nav", "header", "footer", "main", "aside"})


def find_dates(text: str) -> list[date]:
    """Every valid calendar date written in ``text``."""
    found = []
    for year, month, day, month_cn, day_cn in DATE.findall(text):
        try:
            found.append(date(int(year), int(month or month_cn), int(day or day_cn)))
        except ValueError:
            continue
    return found


@dataclass(frozen=True)
class Entry:
    """A list item or table row of the page and the date written in it, if any."""

    text: str
    dated: date | None


@dataclass(frozen=True)
class Link:
    """An ``<a href>`` of the page: where it points, its text, and where it sits."""

    href: str
    text: str
    line: int
    section: str  # the nearest heading or landmark before it


class _Block:
    """A closed block element: its text in order (strings, and its child blocks where they
    sit), whether an ``<a href>`` tag opened in it; read into an item only when asked."""

    __slots__ = ("parts", "linked", "text", "done")

    def __init__(self) -> None:
        self.parts: list[str | _Block] = []
        self.linked = False
        self.text = ""
        self.done = False  # it, or a block inside it, became an item


@dataclass(frozen=True)
class PageReading:
    """What a page holds: title, list entries (with dates) and links."""

    title: str
    entries: list[Entry]
    links: list[Link]
    #: The page's blocks in closing order (children before parents), for ``items``.
    blocks: list[_Block] = field(default_factory=list, repr=False, compare=False)
    links_read: bool = field(default=True, repr=False, compare=False)

    @property
    def dated_entries(self) -> list[Entry]:
        """Dated list items and table rows; failing those, dated blocks with a link."""
        return [e for e in self.entries if e.dated is not None] or self.items

    @cached_property
    def items(self) -> list[Entry]:
        """The innermost blocks holding a link and a date (lists built of blocks:
        ``<div class="item"><a>…</a><span>2021-07-01</span></div>``). Read only when asked:
        a page whose rows carry dates never needs them."""
        items = []
        for block in self.blocks:  # every child block is read before its parent
            raw = " ".join(p if isinstance(p, str) else p.text for p in block.parts)
            children = [p for p in block.parts if not isinstance(p, str)]
            linked = block.linked or any(c.linked for c in children)
            if not self.links_read:  # <a> was not tokenized: look for it in the raw text
                linked = linked or A_HREF.search(raw) is not None
            text = _clean_raw(raw)
            done = any(c.done for c in children)
            if not done and linked and not CALENDAR.search(text) and (dates := find_dates(text)):
                items.append(Entry(text=text[:200], dated=max(dates)))
                done = True
            block.text, block.linked, block.done = text, linked, done
        return items


def _clean(parts: list[str]) -> str:
    return _clean_raw(" ".join(parts))


def _clean_raw(raw: str) -> str:
    if "<" in raw:
        raw = OTHER_TAG.sub(" ", raw)
    if "&" in raw:
        raw = unescape(raw)
    return " ".join(raw.split())


class _Reader:
    """Walks the tokens once, keeping open rows, the open link, the current section."""

    def __init__(self, *, links: bool) -> None:
        self.want_links = links
        self.entries: list[Entry] = []
        self.links: list[Link] = []
        self.title: list[str] = []
        self.rows: list[list[str]] = []
        self.nested: list[bool] = []  # does the open row contain rows (a container)?
        self.row_depth: list[int] = []  # the list depth each open row was opened at
        self.depth = 0  # open ul/ol/table/dl elements
        self.link: tuple[str, int, list[str]] | None = None
        self.heading: list[str] | None = None
        self.section = ""
        self.in_title = False
        self.blocks: list[_Block] = []  # open blocks, innermost last
        self.closed_blocks: list[_Block] = []

    def listening(self) -> bool:
        """Does any open element collect text?"""
        return bool(self.rows or self.blocks or self.link or self.heading is not None) or (
            self.in_title
        )

    def text(self, data: str) -> None:
        if self.rows:
            self.rows[-1].append(data)
        if self.blocks:
            self.blocks[-1].parts.append(data)
        if self.link:
            self.link[2].append(data)
        if self.heading is not None:
            self.heading.append(data)
        if self.in_title:
            self.title.append(data)

    def start(self, tag: str, attrs: str, line: int) -> None:
        if tag in ROWS:
            # An unclosed <li> (or <tr>) ends where its next sibling starts, as browsers do.
            while self.row_depth and self.row_depth[-1] == self.depth:
                self.close_row()
            if self.rows:
                self.nested[-1] = True
            self.rows.append([])
            self.nested.append(False)
            self.row_depth.append(self.depth)
        elif tag in LISTS:
            self.depth += 1
        elif tag in BLOCKS:
            self.blocks.append(_Block())
        elif tag == "a":
            match = HREF.search(attrs)
            href = unescape(next(g for g in match.groups() if g is not None)) if match else ""
            self.link = (href, line, []) if href and self.want_links else None
            if href and self.blocks:
                self.blocks[-1].linked = True
        elif tag in HEADINGS:
            self.heading = []
        elif tag == "title":
            self.in_title = True
        elif tag in LANDMARKS:
            self.section = f"<{tag}>"

    def close_row(self) -> None:
        text = _clean(self.rows.pop())
        container = self.nested.pop()
        self.row_depth.pop()
        if self.rows:  # a nested row's text also belongs to its parent
            self.rows[-1].append(text)
        if text and not container:
            dates = [] if CALENDAR.search(text) else find_dates(text)
            self.entries.append(Entry(text=text[:200], dated=max(dates) if dates else None))

    def close_block(self) -> None:
        block = self.blocks.pop()
        self.closed_blocks.append(block)
        if self.blocks:  # the parent holds this block's text, links and items too
            self.blocks[-1].parts.append(block)

    def end(self, tag: str) -> None:
        if tag in ROWS and self.rows:
            self.close_row()
        elif tag in BLOCKS and self.blocks:
            self.close_block()
        elif tag in LISTS:
            while self.row_depth and self.row_depth[-1] >= self.depth:
                self.close_row()  # rows the list left open end with it
            self.depth = max(0, self.depth - 1)
        elif tag == "a" and self.link:
            href, line, parts = self.link
            self.links.append(
                Link(href=href, text=_clean(parts)[:100], line=line, section=self.section)
            )
            self.link = None
        elif tag in HEADINGS and self.heading is not None:
            self.section = _clean(self.heading)[:60]
            self.heading = None
        elif tag == "title":
            self.in_title = False


def read_page(html: str, *, links: bool = True) -> PageReading:
    """Parse a page leniently: rows (li, tr, dd, dt) with their dates, links, headings."""
    reader = _Reader(links=links)
    position, line, counted = 0, 1, 0
    skipping = ""  # inside a script or style: only its closing tag counts
    for match in (TAG if links else STRUCTURE_TAG).finditer(html):
        name = match.group(2)
        tag = name.lower() if name else ""
        closing = bool(match.group(1))
        if skipping:
            if closing and tag == skipping:
                skipping, position = "", match.end()
            continue
        start = match.start()
        if start > position and reader.listening():
            reader.text(html[position:start])
        position = match.end()
        if not tag:  # a comment: its content is no part of the page
            continue
        if closing:
            reader.end(tag)
        elif tag in SKIPPED:  # scripts and styles hold fake dates and tags
            skipping = tag
        else:
            if tag == "a":
                line += html.count("\n", counted, start)
                counted = start
            reader.start(tag, match.group(3), line)
    if position < len(html) and not skipping:
        reader.text(html[position:])
    while reader.rows:
        reader.close_row()
    while reader.blocks:
        reader.close_block()
    return PageReading(
        title=_clean(reader.title),
        entries=reader.entries,
        links=reader.links,
        blocks=reader.closed_blocks,
        links_read=links,
    )
