"""A DNS answer lost on the way (UDP) costs a try, not the verdict: the query is asked
again within the timeout."""

from __future__ import annotations

import asyncio
from collections import Counter

from dnslib import QTYPE, RR, A, DNSRecord

from services.checks.resolve import lookup, make_resolver


class LossyDns(asyncio.DatagramProtocol):
    """Answers every name with 127.0.0.1, but drops the first query of each (name, type)."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[str, str]] = Counter()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        request = DNSRecord.parse(data)
        key = (str(request.q.qname), QTYPE[request.q.qtype])
        self.seen[key] += 1
        if self.seen[key] == 1:
            return  # lost
        reply = request.reply()
        if key[1] == "A":
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
        self.transport.sendto(reply.pack(), addr)


async def test_a_lost_dns_answer_is_asked_again_within_the_timeout():
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(LossyDns, local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        resolver = make_resolver(nameservers=["127.0.0.1"], port=port, timeout=1.5)
        found = await lookup(resolver, "site.gov.test")
    finally:
        transport.close()
    assert (found.exists, found.addresses, found.error) == (True, ["127.0.0.1"], None)
    assert server.seen[("site.gov.test.", "A")] == 2  # the first try was lost, the second told
