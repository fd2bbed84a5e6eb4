"""Fixture pages of a county site, served by FixtureWeb, and check settings for tests."""

from __future__ import annotations

from services.core.settings import Settings
from tests.support.servers import FixtureWeb, Reply, redirect

SITE = "www.county.test"
EXTERNAL = "ext.test"
GONE = "gone.test"  # a deregistered name: the fixture DNS answers NXDOMAIN


def column(title: str, rows: list[tuple[str, str]], *, table: bool = False) -> str:
    """A column page: a navigation menu, then the list (or table) of entries."""
    nav = (
        "<ul class='nav'><li><a href='/'>首页</a></li><li><a href='/news/fresh'>要闻</a></li></ul>"
    )
    if table:
        body = "".join(f"<tr><td><a href='/a'>{t}</a></td><td>{d}</td></tr>" for t, d in rows)
        listing = f"<table><tr><th>标题</th><th>日期</th></tr>{body}</table>"
    else:
        body = "".join(f"<li><a href='/a'>{t}</a><span>{d}</span></li>" for t, d in rows)
        listing = f"<ul class='list'>{body}</ul>"
    return (
        f"<html><head><title>{title}</title></head><body><nav>{nav}</nav>"
        f"<h2>{title}</h2>{listing}<footer>© 2021 版权所有</footer></body></html>"
    )


FRESH = column("工作动态", [("县政府召开常务会议", "2021-07-12"), ("防汛工作部署", "2021/7/5")])
STALE = column("工作动态", [("春耕生产", "2021-05-01"), ("植树节活动", "2021年3月12日")])
NOTICE = column("通知公告", [("关于开展检查的通知", "2021-03-01")], table=True)
BLANK = column("政策解读", []).replace("</ul><footer>", "</ul><p>暂无信息</p><footer>")
UNDATED = column("机构职能", [("县政府办公室", ""), ("县发展改革局", "")])
GBK = (
    "<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'>"
    "<title>耿马县人民政府 通知公告</title></head><body><h2>通知公告</h2><ul>"
    "<li><a href='/a'>关于做好汛期安全工作的通知</a> 2021年7月15日</li>"
    "<li><a href='/a'>关于征求意见的公告</a> 2021年6月30日</li></ul></body></html>"
)


def links_page(external_port: int) -> str:
    """A page whose links work, answer 404/500, time out, or point at a deregistered name."""
    ext = f"http://{EXTERNAL}:{external_port}"
    return (
        "<html><body><h2>办事服务</h2><ul>"
        "<li><a href='/a'>办事指南</a></li>"
        "<li><a href='/missing'>企业开办</a></li>"
        "<li><a href='/error'>社保查询</a></li>"
        "<li><a href='/slow'>不动产登记</a></li>"
        "<li><a href='/a#top'>办事指南（锚点）</a></li>"
        "<li><a href='mailto:gov@county.test'>联系我们</a></li></ul>"
        f"<footer><a href='{ext}/ok'>省政府网站</a> <a href='{ext}/gone'>旧链接</a>"
        f" <a href='http://{GONE}/'>原园区网站</a></footer></body></html>"
    )


def fixture_site(*, slow_seconds: float = 3.0) -> FixtureWeb:
    """A FixtureWeb with the pages every check test needs (start it before use)."""
    web = FixtureWeb()
    web.route("/news/fresh", Reply(FRESH))
    web.route("/news/stale", Reply(STALE))
    web.route("/notice", Reply(NOTICE))
    web.route("/blank", Reply(BLANK))
    web.route("/undated", Reply(UNDATED))
    web.route("/gbk", Reply(GBK, charset="gbk", declare_charset=False))
    web.route("/moved", redirect("/news/fresh"))
    web.route("/a", Reply("<html><body>正文</body></html>"))
    web.route("/ok", Reply("<html><body>ok</body></html>"))
    web.route("/error", Reply("error", status=500))
    web.route("/slow", Reply(FRESH, delay=slow_seconds))
    web.route("/links", lambda host, path: Reply(links_page(web.port)))
    web.route("/good-links", Reply("<a href='/a'>正文</a> <a href='/ok'>好</a>"))
    return web


def check_settings(dns_port: int, **overrides) -> Settings:
    """Settings for checks against the loopback servers: short timeouts, a short window."""
    values = {
        "check_dns_nameservers": ["127.0.0.1"],
        "check_dns_port": dns_port,
        "check_dns_timeout_seconds": 5.0,  # answered at once on loopback; roomy on a loaded machine
        "check_timeout_seconds": 1.0,
        "check_reach_samples": 10,
        "check_reach_window_seconds": 0.2,
        **overrides,
    }
    return Settings(**values)
