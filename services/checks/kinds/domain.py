"""已下线网站域名未注销: does the domain still resolve and serve?"""

from __future__ import annotations

import httpx

from services.checks.base import answer, check
from services.checks.fetch import FetchFailed
from services.checks.model import CannotTell, CheckContext, CheckOutcome, CheckRequest


def _visits_for(request: CheckRequest, name: str) -> list[str]:
    """The target's own URL on the name (its port kept) or, without one, HTTP(S) and www."""
    if request.url:
        url = httpx.URL(request.url)
        host = url.host.lower()
        if host == name or host.endswith("." + name):
            if url.port is None:
                other = "https" if url.scheme == "http" else "http"
                return [str(url), f"{other}://{host}/"]
            return [str(url)]
    www = [] if name.startswith("www.") else [f"http://www.{name}/"]
    return [f"http://{name}/", f"https://{name}/", *www]


def _site_host(request: CheckRequest, name: str) -> str | None:
    """The host of the target's URL when it is a subdomain of the name; else www. of it."""
    if not request.url:
        return None if name.startswith("www.") else f"www.{name}"
    host = httpx.URL(request.url).host.lower()
    return host if host.endswith("." + name) else None


@check("domain_live", label="域名是否仍在解析和提供服务")
async def domain_live(request: CheckRequest, context: CheckContext) -> CheckOutcome:
    """Fixed when the name no longer resolves (NXDOMAIN) or nothing answers on it."""
    name = (request.domain or (httpx.URL(request.url).host if request.url else "")).lower()
    if not name:
        raise CannotTell("监测对象未登记域名或网址，无法自动检查")
    found = await context.fetcher.lookup(name)
    evidence = {"dns": found.as_dict()}
    site = _site_host(request, name)
    lookups = [found]
    if site:  # many sites answer only on www.: the bare name may have no address at all
        lookups.append(await context.fetcher.lookup(site))
        evidence["dns_site"] = lookups[-1].as_dict()
    addresses = [a for lookup in lookups for a in lookup.addresses]
    if not addresses and any(lookup.error for lookup in lookups):
        errors = "；".join(lookup.error for lookup in lookups if lookup.error)
        raise CannotTell(f"域名 {name} 的 DNS 查询没有结论（{errors}）", **evidence)
    if not any(lookup.exists for lookup in lookups):
        return answer(
            request, "fixed", f"域名 {name} 已无法解析（NXDOMAIN），视为已注销", **evidence
        )
    if not addresses:
        return answer(request, "fixed", f"域名 {name} 已无地址记录，无法访问", **evidence)
    keep = context.settings.check_page_keep_chars
    visits = []
    for url in _visits_for(request, name):
        try:
            page = await context.fetcher.get(url)
        except FetchFailed as exc:
            visits.append({"url": url, "error": str(exc), "kind": exc.kind})
        else:
            visits.append(page.evidence(keep_chars=keep))
    served = [v for v in visits if "status" in v]
    shown = "、".join(dict.fromkeys(addresses))
    if served:
        first = served[0]
        return answer(
            request,
            "present",
            f"域名 {name} 仍可解析（{shown}），且仍提供网页服务"
            f"（HTTP {first['status']}，最终地址 {first['final_url']}）",
            visits=visits,
            **evidence,
        )
    return answer(
        request,
        "fixed",
        f"域名 {name} 仍可解析（{shown}），但网页均无应答",
        visits=visits,
        **evidence,
    )
