"""The dashboard's files as the app serves them (no browser): one HTML page with a
strict CSP, built assets from this origin only, no second way into the data."""

import re


def _page(client):
    answer = client.get("/dashboard")
    assert answer.status_code == 200
    return answer


def test_dashboard_page_is_html_with_own_scripts_only(client):
    answer = _page(client)
    assert answer.mimetype == "text/html"
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    html = answer.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    allowed = ("data:,", "#main")
    assert sources
    assert all(s.startswith("/dashboard/assets/") or s in allowed for s in sources), (
        sources
    )
    assert "<script>" not in html  # no inline script: CSP forbids it
    assert client.get("/dashboard/").status_code == 200


def test_dashboard_assets_served_with_long_cache(client):
    html = _page(client).get_data(as_text=True)
    for path in re.findall(r'"(/dashboard/assets/[^"]+)"', html):
        asset = client.get(path)
        assert asset.status_code == 200, path
        assert "immutable" in asset.headers["Cache-Control"]
        assert asset.mimetype in (
            "text/javascript",
            "application/javascript",
            "text/css",
        )


def test_dashboard_missing_asset_is_404_and_no_path_escape(client):
    assert client.get("/dashboard/assets/nope.js").status_code == 404
    assert client.get("/dashboard/assets/../__init__.py").status_code == 404


def test_dashboard_adds_no_data_route(app):
    rules = [
        r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/dashboard")
    ]
    assert sorted(rules) == ["/dashboard", "/dashboard/assets/<path:filename>"]
