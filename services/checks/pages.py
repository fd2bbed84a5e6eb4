"""Read a column page: its dated entries, and its links with their text and place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser

#: 2021-06-30, 2021/6/30, 2021.06.30, 2021年6月30日 (the separators of Chinese column lists).
DATE = re.compile(
    r"(?<!\d)(20\d{2}|19\d{2})\s*(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d)"
    r"|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日)"
)
ROWS = {"li", "tr", "dd", "dt"}
SKIPPED = {"script", "style", "noscript", "template"}


def find_dates(text: str) -> list[date]:
    """Every valid calendar date written in ``text``."""
    found = []
    for match in DATE.finditer(text):
        year, month, day = match.group(1), match.group(2) or match.group(4), match.group(3)
        day = day or match.group(5)
        try:
            found.append(date(int(year), int(month), int(day)))
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


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: list[Entry] = []
        self.links: list[Link] = []
        self.title = ""
        self._rows: list[list[str]] = []
        self._nested: list[bool] = []  # does the open row contain rows (a container)?
        self._skip = 0
        self._link: tuple[str, int, list[str]] | None = None
        self._heading: list[str] | None = None
        self._section = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self._skip += 1
        elif tag in ROWS:
            if self._rows:
                self._nested[-1] = True
            self._rows.append([])
            self._nested.append(False)
        elif tag == "a":
            href = dict(attrs).get("href")
            self._link = (href, self.getpos()[0], []) if href else None
        elif tag in {"h1", "h2", "h3", "h4", "caption", "legend"}:
            self._heading = []
        elif tag == "title":
            self._in_title = True
        elif tag in {"nav", "header", "footer", "main", "aside"}:
            self._section = f"<{tag}>"

    def handle_endtag(self, tag):
        if tag in SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in ROWS and self._rows:
            text = " ".join(" ".join(self._rows.pop()).split())
            container = self._nested.pop()
            if self._rows:  # a nested row's text also belongs to its parent
                self._rows[-1].append(text)
            dates = find_dates(text)
            if text and not container:
                self.entries.append(Entry(text=text[:200], dated=max(dates) if dates else None))
        elif tag == "a" and self._link:
            href, line, parts = self._link
            text = " ".join(" ".join(parts).split())
            self.links.append(Link(href=href, text=text[:100], line=line, section=self._section))
            self._link = None
        elif tag in {"h1", "h2", "h3", "h4", "caption", "legend"} and self._heading is not None:
            self._section = " ".join(" ".join(self._heading).split())[:60]
            self._heading = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._skip:
            return
        if self._rows:
            self._rows[-1].append(data)
        if self._link:
            self._link[2].append(data)
        if self._heading is not None:
            self._heading.append(data)
        if self._in_title:
            self.title += data


@dataclass(frozen=True)
class PageReading:
    """What a page holds: title, list entries (with dates) and links."""

    title: str
    entries: list[Entry]
    links: list[Link]

    @property
    def dated_entries(self) -> list[Entry]:
        return [e for e in self.entries if e.dated is not None]


def read_page(html: str) -> PageReading:
    """Parse a page leniently (government pages are rarely valid HTML)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return PageReading(title=reader.title.strip(), entries=reader.entries, links=reader.links)
