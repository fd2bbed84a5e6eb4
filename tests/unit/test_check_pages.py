"""Reading column pages: the date formats of Chinese sites, entries, links and charsets."""

from __future__ import annotations

from datetime import date

import pytest

from services.checks.charset import decode_page
from services.checks.pages import find_dates, read_page


def test_the_three_date_formats_of_column_lists_are_recognised():
    text = "发布于 2021-06-30；更新 2021/6/3；印发 2021年7月1日；2021.05.04"
    assert find_dates(text) == [
        date(2021, 6, 30),
        date(2021, 6, 3),
        date(2021, 7, 1),
        date(2021, 5, 4),
    ]


def test_impossible_dates_and_long_numbers_are_not_dates():
    assert find_dates("2021-02-30 编号 120211-06-301 电话 2021 年") == []


def test_list_items_and_table_rows_become_entries_but_containers_do_not():
    html = (
        "<ul><li>要闻<ul><li><a href='/1'>甲</a> 2021-07-01</li>"
        "<li><a href='/2'>乙</a> 2021-07-02</li></ul></li></ul>"
        "<table><tr><td>丙</td><td>2021年6月1日</td></tr></table>"
    )
    reading = read_page(html)
    assert [(e.text, e.dated) for e in reading.entries] == [
        ("甲 2021-07-01", date(2021, 7, 1)),
        ("乙 2021-07-02", date(2021, 7, 2)),
        ("丙 2021年6月1日", date(2021, 6, 1)),
    ]


def test_dates_inside_scripts_are_ignored():
    assert read_page("<li><script>var d='2021-07-01'</script>首页</li>").dated_entries == []


def test_links_keep_their_text_line_and_section():
    reading = read_page("<h3>专题</h3>\n<p><a href='/x'> 乡村 振兴 </a></p>")
    [link] = reading.links
    assert (link.href, link.text, link.line, link.section) == ("/x", "乡村 振兴", 2, "专题")


def test_gb2312_declared_in_a_meta_tag_is_decoded_as_gb18030():
    body = "<meta charset='gb2312'><title>镕</title>".encode("gb18030")
    assert decode_page(body, "text/html") == ("<meta charset='gb2312'><title>镕</title>", "gb18030")


def test_an_undeclared_gbk_page_falls_back_from_utf8_to_gb18030():
    text, charset = decode_page("通知公告".encode("gbk"))
    assert (text, charset) == ("通知公告", "gb18030")


def test_a_utf8_page_is_decoded_as_utf8():
    assert decode_page("通知".encode(), "text/html; charset=UTF-8") == ("通知", "utf-8")


def test_unclosed_list_items_end_where_the_next_one_starts():
    html = (
        "<ul><li>甲 2021-07-01<li>乙 2021-07-02</ul>"
        "<table><tr><td>丙</td><td>2021-06-01<tr><td>丁</td><td>2021-06-02</table><li>戊"
    )
    assert [e.text for e in read_page(html).entries] == [
        "甲 2021-07-01",
        "乙 2021-07-02",
        "丙 2021-06-01",
        "丁 2021-06-02",
        "戊",
    ]


@pytest.mark.parametrize("links", [True, False])
def test_lists_built_of_blocks_are_read_when_there_are_no_dated_rows(links):
    html = (
        "<div class='list'><div class='item'><a href='/1'>甲</a><span>2021-07-01</span></div>"
        "<div class='item'><p><a href='/2'>乙</a></p><span>2021-07-03</span></div></div>"
        "<p>版权所有 2021-01-01</p>"
    )
    assert [(e.text, e.dated) for e in read_page(html, links=links).dated_entries] == [
        ("甲 2021-07-01", date(2021, 7, 1)),
        ("乙 2021-07-03", date(2021, 7, 3)),
    ]


@pytest.mark.parametrize("links", [True, False])
def test_the_date_in_a_page_top_bar_is_not_an_entry(links):
    html = (
        "<div class='top'>今天是2021年7月19日 星期一 <a href='/'>设为首页</a></div>"
        "<ul><li>今日 2021-07-19 <a href='/'>首页</a></li><li><a href='/1'>甲</a> 2021-05-01</li></ul>"
    )
    assert [e.dated for e in read_page(html, links=links).dated_entries] == [date(2021, 5, 1)]


@pytest.mark.parametrize("links", [True, False])
def test_dates_inside_comments_are_ignored(links):
    html = "<ul><li>甲 <!-- 2021-07-18 -->2021-05-01</li></ul>"
    assert [e.dated for e in read_page(html, links=links).entries] == [date(2021, 5, 1)]
