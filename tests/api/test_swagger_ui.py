"""/api/docs works offline: the Swagger UI page and every asset it references come
from this server (core/swagger_ui.py serves the pinned flask-swagger-ui
distribution)."""

import re
from urllib.parse import urljoin, urlsplit

REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


def page_references(html: str, base: str) -> list[str]:
    """Absolute URLs (scheme and host included) of the page's src/href references."""
    return [urljoin(base, ref) for ref in REFERENCE.findall(html)]


def test_docs_page_references_only_this_server(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    references = page_references(html, "http://localhost/api/docs")
    assert len(references) == 3  # the stylesheet and two scripts
    assert all(urlsplit(ref).netloc == "localhost" for ref in references), references
    assert "cdn" not in html.lower() and "https://" not in html


def test_every_asset_of_the_docs_page_is_served_with_its_content_type(client):
    html = client.get("/api/docs").get_data(as_text=True)
    fetched = []
    todo = page_references(html, "http://localhost/api/docs")
    while todo:
        url = todo.pop()
        path = urlsplit(url).path
        response = client.get(path)
        assert response.status_code == 200, path
        suffix = path[path.rfind(".") :]
        assert response.mimetype in CONTENT_TYPES[suffix], (path, response.mimetype)
        body = response.get_data()
        assert len(body) > 1000, path
        if suffix == ".css":  # images and fonts a stylesheet pulls in (not data: URIs)
            todo += [
                urljoin(url, ref)
                for ref in CSS_URL.findall(body.decode())
                if not ref.startswith("data:")
            ]
        fetched.append(path)
    assert sorted(fetched) == [
        "/api/docs/assets/swagger-ui-bundle.js",
        "/api/docs/assets/swagger-ui-standalone-preset.js",
        "/api/docs/assets/swagger-ui.css",
    ]
    bundle = client.get("/api/docs/assets/swagger-ui-bundle.js").get_data(as_text=True)
    assert "SwaggerUIBundle" in bundle


def test_docs_page_loads_the_spec_from_this_server(client):
    html = client.get("/api/docs").get_data(as_text=True)
    assert re.search(r'url:\s*"/api/v1/openapi.json"', html)
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_assets_are_cacheable_and_unknown_ones_404(client):
    response = client.get("/api/docs/assets/swagger-ui.css")
    assert "max-age=3600" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/api/docs/assets/nothing-here.js").status_code == 404
    assert client.get("/api/docs/assets/../swagger_ui.py").status_code == 404


def test_bundled_swagger_ui_is_a_5x_release():
    from core.swagger_ui import swagger_ui_version

    assert re.fullmatch(r"v5\.\d+\.\d+", swagger_ui_version())
