"""Broker URLs: ``mqtt://host:port`` and ``mqtts://host:port``."""

from __future__ import annotations

from urllib.parse import urlparse


class BrokerUrlError(ValueError):
    """A broker URL that cannot be used."""


def parse_broker_url(url: str) -> tuple[str, int]:
    """Host and port from ``mqtt://host[:port]`` (1883) or ``mqtts://host[:port]`` (8883)."""
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    if parsed.scheme not in ("mqtt", "tcp", "mqtts", "ssl") or not parsed.hostname:
        raise BrokerUrlError(f"bad broker URL {url!r} (expected mqtt://host:port or mqtts://host:port)")
    try:
        port = parsed.port or (8883 if parsed.scheme in ("mqtts", "ssl") else 1883)
    except ValueError:
        raise BrokerUrlError(f"bad port in broker URL {url!r}") from None
    return parsed.hostname, port


def is_tls_url(url: str) -> bool:
    """True for the TLS schemes, ``mqtts://`` and ``ssl://``."""
    return url.startswith(("mqtts://", "ssl://"))
