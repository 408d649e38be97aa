"""The test side of "no raw IP stored": what counts as an IP address in text a test scans."""

from __future__ import annotations

import ipaddress
import re

# an IPv4 or IPv6 address standing alone as a token (not part of a longer number, name or URL path)
IP_TOKEN = re.compile(r"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?![\w.:/])|(?<![\w:])[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7}(?![\w:/])")


def is_ip(text: str) -> bool:
    """Whether ``text`` is an IP address (S3 times such as 06/Feb/2019:00:00:38 look like IPv6 to a regex)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
