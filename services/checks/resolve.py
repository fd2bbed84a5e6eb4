"""DNS through dnspython's async resolver, pointed at configurable name servers."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver


@dataclass(frozen=True)
class Lookup:
    """What the DNS said about a name: exists or not, its addresses and CNAME chain."""

    name: str
    exists: bool
    addresses: list[str] = field(default_factory=list)
    cnames: list[str] = field(default_factory=list)
    error: str | None = None  # set when the DNS could not answer (timeout, SERVFAIL)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "exists": self.exists,
            "addresses": self.addresses,
            "cnames": self.cnames,
            "error": self.error,
        }


def make_resolver(
    *, nameservers: list[str], port: int, timeout: float
) -> dns.asyncresolver.Resolver:
    """A resolver on the given servers (the system's when the list is empty) that gives up
    after ``timeout`` seconds, asking again (``TRIES`` times in all) when an answer is late: a
    query or answer lost on the way (UDP) costs a try, not the verdict."""
    resolver = dns.asyncresolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = list(nameservers)
        resolver.port = port
    resolver.timeout = timeout / TRIES
    resolver.lifetime = timeout
    return resolver


#: Tries of a query within the DNS timeout (as stub resolvers retransmit).
TRIES = 3


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


async def lookup(resolver: dns.asyncresolver.Resolver, name: str) -> Lookup:
    """Resolve A and AAAA (following CNAMEs); NXDOMAIN means the name does not exist."""
    if is_ip(name):
        return Lookup(name=name, exists=True, addresses=[name.strip("[]")])
    results = await asyncio.gather(
        *(_query(resolver, name, rdtype) for rdtype in ("A", "AAAA")), return_exceptions=True
    )
    addresses: list[str] = []
    cnames: list[str] = []
    errors: list[str] = []
    nxdomain = False
    for result in results:
        if isinstance(result, dns.resolver.NXDOMAIN):
            nxdomain = True
        elif isinstance(result, dns.resolver.NoAnswer):
            continue
        elif isinstance(result, Exception):
            errors.append(_describe(result))
        else:
            found, chain = result
            addresses += [a for a in found if a not in addresses]
            cnames += [c for c in chain if c not in cnames]
    if nxdomain and not addresses:
        return Lookup(name=name, exists=False)
    if errors and not addresses:
        return Lookup(name=name, exists=True, cnames=cnames, error="；".join(errors))
    return Lookup(name=name, exists=True, addresses=addresses, cnames=cnames)


async def _query(resolver, name: str, rdtype: str) -> tuple[list[str], list[str]]:
    answer = await resolver.resolve(name, rdtype, search=False)
    chain = [
        str(record.target).rstrip(".")
        for rrset in answer.response.answer
        if rrset.rdtype == dns.rdatatype.CNAME
        for record in rrset
    ]
    return [record.to_text() for record in answer], chain


def _describe(exc: Exception) -> str:
    if isinstance(exc, dns.exception.Timeout):
        return "DNS 查询超时"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "DNS 服务器无法应答（SERVFAIL 或拒绝）"
    return f"DNS 查询失败：{type(exc).__name__}"
