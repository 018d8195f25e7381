"""The SSRF address classifier and allow list of HTTP references (no network needed)."""

from __future__ import annotations

import ipaddress

import pytest
from arkive_core.errors import InvalidArgument, PermissionDenied

from arkive_gateway.ssrf import AllowList, CheckedResolver, SafeHttp, check_url, forbidden_reason

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:8080/x",
    "http://[::1]/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://100.64.0.1/",
    "http://localhost:9000/",
    "https://127.1/",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_refused_by_default(url: str) -> None:
    http = SafeHttp(AllowList(""))
    with pytest.raises(PermissionDenied, match="reference refused"):
        await http.check_host(url)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("::ffff:10.1.2.3", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("239.1.1.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_classifier(address: str, reason: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == ""


async def test_allow_list() -> None:
    allow = AllowList("10.0.0.0/8, 127.0.0.1:8080,[::1]:9000, localhost:7000")
    lo = ipaddress.ip_address("127.0.0.1")
    assert allow.allows(ipaddress.ip_address("10.2.3.4"), 443)
    assert allow.allows(lo, 8080)
    assert not allow.allows(lo, 8081)  # host:port allows that port only
    assert allow.allows(ipaddress.ip_address("::1"), 9000)
    assert allow.allows(lo, 7000, "localhost")
    assert not allow.allows(ipaddress.ip_address("169.254.169.254"), 80)
    http = SafeHttp(allow)
    await http.check_host("http://127.0.0.1:8080/data.bin")
    with pytest.raises(PermissionDenied):
        await http.check_host("http://127.0.0.1:8081/data.bin")


async def test_resolver_checks_every_address_it_returns() -> None:
    # What aiohttp connects to comes from this resolver: a name resolving to loopback is refused
    # there too (this is what covers DNS rebinding between the pre-check and the connect).
    with pytest.raises(PermissionDenied):
        await CheckedResolver(AllowList("")).resolve("localhost", 80)
    [ok] = await CheckedResolver(AllowList("127.0.0.1:80")).resolve("127.0.0.1", 80)
    assert ok["host"] == "127.0.0.1" and ok["port"] == 80


def test_bad_allow_entry() -> None:
    with pytest.raises(ValueError, match="neither a CIDR nor host:port"):
        AllowList("not-an-address")


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1/", "http:///x"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(InvalidArgument):
        check_url(url)
