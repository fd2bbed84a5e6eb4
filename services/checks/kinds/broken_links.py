"""不可用链接: request each link of a page once; report the broken ones with text and place."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from services.checks.base import answer, check, page_of
from services.checks.fetch import FetchFailed
from services.checks.model import CheckContext, CheckOutcome, CheckRequest
from services.checks.pages import Link

SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#")
KIND_LABELS = {
    "timeout": "超时",
    "dns": "域名无法解析",
    "connect": "无法连接",
    "protocol": "协议错误",
}


@dataclass(frozen=True)
class Target:
    url: str
    link: Link
    internal: bool
    places: int  # how many times the page links to it
    invalid: bool = False  # the address cannot be parsed: unusable without a request


def collect(links: list[Link], *, base: str, site_hosts: set[str]) -> list[Target]:
    """Absolute http(s) links, once each, marked same-site or external."""
    seen: dict[str, list] = {}
    for link in links:
        href = link.href.strip()
        if not href or href.lower().startswith(SKIPPED_SCHEMES):
            continue
        try:
            url = urldefrag(urljoin(base, href)).url
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                continue
        except ValueError:  # e.g. "http://[::1/x": a link no browser can follow
            url = href
        if url in seen:
            seen[url][1] += 1
        else:
            seen[url] = [link, 1]
    return [_target(url, link, count, site_hosts) for url, (link, count) in seen.items()]


def _target(url: str, link: Link, count: int, site_hosts: set[str]) -> Target:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return Target(url=url, link=link, internal=True, places=count, invalid=True)
    return Target(url=url, link=link, internal=_same_site(host, site_hosts), places=count)


def _same_site(host: str, site_hosts: set[str]) -> bool:
    host = host.lower()
    return any(host == h or host.endswith("." + h) for h in site_hosts)


async def _probe(target: Target, context: CheckContext) -> dict | None:
    """None when the link works; else what went wrong, with the link's text and place."""
    try:
        if target.invalid:
            raise FetchFailed("protocol", "链接地址无效")
        page = await context.fetcher.get(target.url, read_body=False)
    except FetchFailed as exc:
        label = KIND_LABELS.get(exc.kind, exc.kind)
        message = str(exc) if str(exc).startswith(label) else f"{label}：{exc}"
        problem = {"error": message, "kind": exc.kind}
    else:
        if page.ok:
            return None
        problem = {"status": page.status, "kind": "http"}
    return {
        "url": target.url,
        "text": target.link.text,
        "line": target.link.line,
        "section": target.link.section,
        "scope": "internal" if target.internal else "external",
        "places": target.places,
        **problem,
    }


@check("broken_links", label="页面链接是否可用")
async def broken_links(request: CheckRequest, context: CheckContext) -> CheckOutcome:
    """Fixed when every link of the page answers without an error."""
    page = await page_of(request, context)
    site_hosts = {urlsplit(page.final_url).hostname or "", urlsplit(request.url or "").hostname}
    if request.domain:
        site_hosts.add(request.domain.lower())
    site_hosts = {h.lower() for h in site_hosts if h}
    targets = collect(page.reading().links, base=page.final_url, site_hosts=site_hosts)
    # Same-site links first when the page has more links than one check requests.
    targets.sort(key=lambda t: not t.internal)
    limit = context.settings.check_max_links
    checked = targets[:limit]
    problems = [p for p in await asyncio.gather(*(_probe(t, context) for t in checked)) if p]
    internal = [t for t in checked if t.internal]
    broken_internal = [p for p in problems if p["scope"] == "internal"]
    figures = {
        "page": page.evidence(keep_chars=context.settings.check_page_keep_chars),
        "internal": {"checked": len(internal), "broken": len(broken_internal)},
        "external": {
            "checked": len(checked) - len(internal),
            "broken": len(problems) - len(broken_internal),
        },
        "not_checked": len(targets) - len(checked),
        "broken": problems,
    }
    counts = f"共检查链接 {len(checked)} 个（站内 {len(internal)} 个、站外 {len(checked) - len(internal)} 个）"
    if len(targets) > len(checked):
        counts += f"，另有 {len(targets) - len(checked)} 个超出上限未检查"
    if not problems:
        return answer(request, "fixed", f"{counts}，均可正常访问", **figures)
    return answer(
        request,
        "present",
        f"{counts}，不可用 {len(problems)} 个（站内 {len(broken_internal)} 个、"
        f"站外 {len(problems) - len(broken_internal)} 个）",
        **figures,
    )
