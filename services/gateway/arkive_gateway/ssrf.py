"""SSRF guard for HTTP(S) references: the gateway fetches URLs that clients name, so it must never
become a way into the operator's network (cloud metadata at 169.254.169.254, services on loopback
or private addresses).

The check happens where the connection is made, not on the URL text: aiohttp asks our resolver for
the addresses of every host it connects to (DNS cache off), and every address it returns is
classified, so a name that resolves to a private address, or resolves differently the second time
(DNS rebinding), is refused. IP literals, which aiohttp does not resolve, are checked per request.
Redirects are followed by hand, at most MAX_REDIRECTS, each hop checked the same way. Only http
and https. What the operator trusts is allow-listed with ARKIVE_REFERENCE_ALLOW.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from arkive_core.errors import InvalidArgument, PermissionDenied
from yarl import URL

MAX_REDIRECTS = 5
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
TIMEOUT = aiohttp.ClientTimeout(total=None, connect=10, sock_connect=10, sock_read=60)


def forbidden_reason(ip: IP) -> str:
    """Why an address must not be contacted by default ("" when it is a public address)."""
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:a.b.c.d and the deprecated ::a.b.c.d reach the IPv4 address: judge that one.
        inner = ip.ipv4_mapped or (ip.sixtofour if ip.sixtofour else None)
        if inner is None and int(ip) >> 32 == 0 and int(ip) > 1:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return forbidden_reason(inner)
    for attr, reason in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_unspecified", "unspecified"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, attr):
            return reason
    if not ip.is_global:  # shared address space (100.64/10) and other special-purpose ranges
        return "not globally routable"
    return ""


class AllowList:
    """ARKIVE_REFERENCE_ALLOW: comma-separated CIDRs ("10.0.0.0/8", "127.0.0.1") that may be
    contacted on any port, or host:port pairs ("127.0.0.1:8080", "[::1]:8080", "minio.local:9000")
    allowed on that port only."""

    def __init__(self, text: str = "") -> None:
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.endpoints: set[tuple[str, int]] = set()
        for item in (p.strip() for p in text.split(",")):
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
                continue
            except ValueError:
                pass
            host, sep, port = item.rpartition(":")
            if not sep or not port.isdigit() or not host:
                raise ValueError(f"ARKIVE_REFERENCE_ALLOW: {item!r} is neither a CIDR nor host:port")
            self.endpoints.add((host.strip("[]").lower(), int(port)))

    def allows(self, ip: IP, port: int, hostname: str = "") -> bool:
        if any(ip in n for n in self.networks):
            return True
        return (str(ip), port) in self.endpoints or (hostname.lower(), port) in self.endpoints


def check_address(ip: IP, port: int, allow: AllowList, hostname: str = "") -> None:
    reason = forbidden_reason(ip)
    if reason and not allow.allows(ip, port, hostname):
        shown = f"{hostname} ({ip})" if hostname and hostname != str(ip) else str(ip)
        raise PermissionDenied(
            f"reference refused: {shown} is a {reason} address; an operator can allow it with ARKIVE_REFERENCE_ALLOW"
        )


def _literal(host: str) -> IP | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_checked(host: str, port: int, allow: AllowList) -> list[IP]:
    """Every address `host` resolves to, each checked (any forbidden one refuses the host)."""
    literal = _literal(host)
    if literal is not None:
        check_address(literal, port, allow, host)
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InvalidArgument(f"cannot resolve {host!r}: {exc.strerror}") from None
    # An IPv4 or IPv6 sockaddr (the only families getaddrinfo returns here) starts with the host string.
    ips = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in ips:
        check_address(ip, port, allow, host)
    return ips


class CheckedResolver(AbstractResolver):
    """What aiohttp connects to is exactly what this returns, so each address is checked here."""

    def __init__(self, allow: AllowList) -> None:
        self.allow = allow

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        ips = await resolve_checked(host, port, self.allow)
        return [
            ResolveResult(
                hostname=host,
                host=str(ip),
                port=port,
                family=socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for ip in ips
        ]

    async def close(self) -> None:
        pass


def check_url(url: str) -> URL:
    """An absolute http(s) URL with a host; anything else is INVALID_ARGUMENT."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        raise InvalidArgument(f"invalid URL {url!r}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidArgument(f"only http(s) URLs with a host can be fetched, not {url!r}")
    return parsed


class SafeHttp:
    """An aiohttp session whose every connection and redirect hop passes the SSRF checks."""

    def __init__(self, allow: AllowList) -> None:
        self.allow = allow
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(resolver=CheckedResolver(self.allow), use_dns_cache=False)
            # trust_env=False: a proxy from the environment would connect on our behalf, unchecked.
            self._session = aiohttp.ClientSession(connector=connector, timeout=TIMEOUT, trust_env=False)
        return self._session

    async def check_host(self, url: str) -> URL:
        """Resolves and checks the URL's host without a request (checksum=False references)."""
        parsed = check_url(url)
        await resolve_checked(parsed.host or "", parsed.port or 0, self.allow)
        return parsed

    @asynccontextmanager
    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The final response after following at most MAX_REDIRECTS redirects by hand."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            # Checked before the request for a clear error (and because aiohttp does not resolve
            # IP literals); the resolver checks again what the connection really uses.
            parsed = await self.check_host(current)
            try:
                resp = await self.session().request(method, parsed, headers=headers, allow_redirects=False)
            except aiohttp.InvalidURL as exc:
                raise InvalidArgument(f"invalid URL {current!r}: {exc}") from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                if isinstance(exc.__cause__, PermissionDenied):
                    raise exc.__cause__ from None
                raise InvalidArgument(f"cannot fetch {current}: {exc}") from None
            if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                current = urljoin(str(parsed), resp.headers["Location"])
                resp.release()
                continue
            try:
                yield resp
            finally:
                resp.release()
            return
        raise InvalidArgument(f"more than {MAX_REDIRECTS} redirects from {url}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
