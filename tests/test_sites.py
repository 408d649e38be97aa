"""The one site normaliser, on hosts as logs, requests and users spell them."""

import pytest

from stats_lib.sites import normalise_site


@pytest.mark.parametrize(("host", "site"), [
    ("WWW.Example.com:443", "example.com"),
    ("example.com.", "example.com"),
    ("www.example.com.:8080", "example.com"),
    ("  Blog.Example.COM ", "blog.example.com"),
    ("wwwexample.com", "wwwexample.com"),
    ("[2001:DB8::1]:443", "2001:db8::1"),
    ("2001:db8::1", "2001:db8::1"),
    ("", None),
    (None, None),
    ("www.example.com", "example.com"),
])
def test_normalise_site(host, site):
    assert normalise_site(host) == site
