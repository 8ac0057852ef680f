"""The dashboard tests cover the staff dashboard: its files as the app serves them
(test_dashboard_static.py, with the root `app` and `client`) and the whole of it
in headless Chromium against a live demo server (test_dashboard.py, browser tests:
skipped when Chromium or axe-core is missing, failing under CI=true). The browser
fixtures (`browser_type_launch_args`, `base_url`, `as_role`, `shots`) are the
browser module's alone and stay in it, with its helpers in
tests/dashboard_browser.py; the two modules share nothing else.

From tests/conftest.py they use `app` and `client` (and ON_POSTGRES, which skips
the browser tests in the PostgreSQL pass); `browser` and `page` come from
pytest-playwright.
"""
