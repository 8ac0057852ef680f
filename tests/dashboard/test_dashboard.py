"""The staff dashboard at /dashboard, end to end in headless Chromium (Debian's
package, driven by Playwright) against a live server with the demo data.

The main story walks every role through the browser: an operation employee
creates a package with an itinerary and a departure and submits it; an operation
head approves it; sales books it for a customer; finance records the bank transfer
and sees the invoice paid; the admin finds all of it in the audit log. Other
tests: refused actions shown in words (field errors, 409, the maker-checker 403),
keyboard-only sign-in, tablet width, and axe-core on every main screen.
Screenshots go to docs/screenshots/ with DASHBOARD_SCREENSHOTS=1
(`make screenshots`), else to a temporary folder.
"""

import os
import re
import time
import uuid
from datetime import date, timedelta

import pytest
import requests

from tests.conftest import ON_POSTGRES
from tests.dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    SCREENSHOT_DIR,
    TABLET,
    demo_server,
    require_browser_tools,
    screenshot,
    violations,
)

PASSWORD = "demo-password-1"
OPERATION = "operation@easytravels.test"
OPHEAD = "ophead@easytravels.test"
OPHEAD2 = "ophead2@easytravels.test"
SALES = "sales1@easytravels.test"
FINANCE = "finance@easytravels.test"
ADMIN = "admin@easytravels.test"
CUSTOMER_NAME = "Clara Byrne"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        ON_POSTGRES,
        reason=(
            "browser tests run in the SQLite pass: their server has its own database"
        ),
    ),
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser (docs/architecture.md "Stack
    notes"). Without it the browser tests skip (fail under CI=true) before a launch
    is tried."""
    require_browser_tools()
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="module")
def base_url():
    """The live demo server (module-wide: the story's steps build on each other).
    DASHBOARD_TEST_URL points the tests at a server already running with the demo
    data instead (quicker while developing the dashboard)."""
    require_browser_tools()
    if os.environ.get("DASHBOARD_TEST_URL"):
        yield os.environ["DASHBOARD_TEST_URL"].rstrip("/")
        return
    with demo_server() as url:
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Where screenshots go: docs/screenshots/ when DASHBOARD_SCREENSHOTS=1."""
    if os.environ.get("DASHBOARD_SCREENSHOTS") == "1":
        return SCREENSHOT_DIR
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def as_role(browser, base_url):
    """`as_role(email)` -> a signed-in page in its own browser context (1280 px)."""
    contexts = []

    def sign_in(email, viewport=DESKTOP):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base_url}/dashboard")
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name=re.compile("^Welcome")).wait_for()
        return page

    yield sign_in
    for context in contexts:
        context.close()


def api_token(base_url, email):
    """An access token of a demo employee, for setting up a test's starting state."""
    answer = requests.post(
        f"{base_url}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD, "account": "employee"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def accessible(page, screen):
    """Assert axe-core finds no serious or critical violation on this screen."""
    found = violations(page)
    assert not found, f"{screen}: {found}"


def goto(page, base_url, route):
    """Open a dashboard route (#/...) and wait for its heading."""
    page.goto(f"{base_url}/dashboard#{route}")
    page.locator("#page-title").wait_for()


def test_dashboard_page_served_with_strict_csp_and_built_assets(base_url):
    answer = requests.get(f"{base_url}/dashboard", timeout=10)
    assert answer.status_code == 200
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    scripts = re.findall(r'src="(/dashboard/assets/[^"]+\.js)"', answer.text)
    assert scripts, answer.text
    asset = requests.get(base_url + scripts[0], timeout=10)
    assert asset.status_code == 200
    assert "javascript" in asset.headers["Content-Type"]
    assert "/api/v1" in asset.text and "/auth/login" in asset.text
    assert (
        requests.get(f"{base_url}/dashboard/assets/missing.js", timeout=10).status_code
        == 404
    )


def test_main_story_every_role_in_the_browser(as_role, base_url, shots):
    title = f"Fjords by rail {uuid.uuid4().hex[:6]}"
    start = date.today() + timedelta(days=45)

    # 1. operation: a package with a two-day itinerary and a departure, submitted.
    page = as_role(OPERATION)
    accessible(page, "operation home")
    screenshot(page, "operation-home", shots)
    page.get_by_role("link", name="New package").click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Destination", exact=True).fill("Norway")
    page.get_by_label("Origin", exact=True).fill("Oslo")
    page.get_by_label("Transport", exact=True).select_option("train")
    page.get_by_label("Duration (days)", exact=True).fill("2")
    page.get_by_label("Base price", exact=True).fill("950.00")
    page.get_by_label("Deposit (%)", exact=True).fill("20")
    page.get_by_label("Day title", exact=True).fill("Bergen line")
    page.get_by_label("Location", exact=True).fill("Myrdal")
    page.get_by_role("button", name="Add a day").click()
    page.get_by_label("Day title", exact=True).nth(1).fill("Flåm railway")
    page.get_by_label("Location", exact=True).nth(1).fill("Flåm")
    accessible(page, "package form")
    screenshot(page, "operation-package-form", shots)
    page.get_by_role("button", name="Create package").click()
    page.get_by_role("heading", name=title).wait_for()
    package_id = int(re.search(r"#/packages/(\d+)", page.url).group(1))
    page.get_by_label("Start date", exact=True).fill(start.isoformat())
    page.get_by_label("End date", exact=True).fill(
        (start + timedelta(days=1)).isoformat()
    )
    page.get_by_label("Capacity (seats)", exact=True).fill("12")
    page.get_by_label("Child price", exact=True).fill("500.00")
    page.get_by_role("button", name="Add departure").click()
    page.get_by_role("link", name=f"{start.isoformat()} →").wait_for()
    page.get_by_role("button", name="Submit for approval").click()
    page.get_by_role("status").get_by_text("Submitted for approval.").wait_for()
    assert page.locator(".badge").first.inner_text().lower() == "pending approval"
    screenshot(page, "operation-package-submitted", shots)

    # 2. another operation head approves it from the queue.
    page = as_role(OPHEAD)
    page.get_by_role("link", name="Approval queue").click()
    card = page.locator("article", has_text=title)
    card.wait_for()
    accessible(page, "approval queue")
    screenshot(page, "ophead-approval-queue", shots)
    card.get_by_role("button", name=f"Approve {title}").click()
    page.get_by_role("status").get_by_text("approved and published").wait_for()
    goto(page, base_url, f"/packages/{package_id}")
    assert page.locator(".badge").first.inner_text().lower() == "published"

    # 3. sales books two seats for a customer.
    page = as_role(SALES)
    accessible(page, "sales home")
    page.get_by_role("link", name="Customers").click()
    page.get_by_label("Search name, email or phone", exact=True).fill("Clara")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("link", name=CUSTOMER_NAME).click()
    page.get_by_role("heading", name=CUSTOMER_NAME).wait_for()
    accessible(page, "customer profile")
    screenshot(page, "sales-customer-profile", shots)
    page.get_by_role("link", name="Book a trip for this customer").click()
    page.get_by_label("Package", exact=True).select_option(label=f"{title} (Norway)")
    departure = page.get_by_label("Departure", exact=True)
    departure.locator("option", has_text=start.isoformat()).wait_for(state="attached")
    departure.select_option(index=1)
    page.get_by_label("Seats", exact=True).fill("2")
    accessible(page, "booking form")
    page.get_by_role("button", name="Book and hold the seats").click()
    heading = page.get_by_role("heading", name=re.compile("^Booking "))
    heading.wait_for()
    reference = heading.inner_text().removeprefix("Booking ").strip()
    booking_id = int(re.search(r"#/bookings/(\d+)", page.url).group(1))
    assert "held" in page.locator(".badge").first.inner_text().lower()
    screenshot(page, "sales-booking-held", shots)

    # 4. finance records the bank transfer and sees the invoice paid.
    page = as_role(FINANCE)
    accessible(page, "finance home")
    screenshot(page, "finance-home", shots)
    goto(page, base_url, f"/bookings/{booking_id}")
    assert page.get_by_label("Amount", exact=True).input_value() == "1900.00"
    assert page.get_by_label("Method", exact=True).input_value() == "bank_transfer"
    page.get_by_label("Reference", exact=True).fill("SEPA-E2E-1")
    accessible(page, "booking with payment form")
    page.get_by_role("button", name="Record payment").click()
    page.locator(".invoice-line .badge", has_text="paid").wait_for()
    assert "confirmed" in page.locator(".badge").first.inner_text().lower()
    screenshot(page, "finance-invoice-paid", shots)
    page.get_by_role("link", name="Invoices").click()
    page.get_by_label("Status", exact=True).select_option("paid")
    page.get_by_label("Booking id", exact=True).fill(str(booking_id))
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("cell", name=reference).wait_for()
    page.get_by_role("link", name="Reports").click()
    page.locator("canvas").first.wait_for()
    accessible(page, "reports")
    screenshot(page, "finance-reports", shots)

    # 5. the admin finds it all in the audit log.
    page = as_role(ADMIN)
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Entity type", exact=True).fill("package")
    page.get_by_label("Entity id", exact=True).fill(str(package_id))
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("tbody tr")
    page.get_by_role("cell", name="package.approved").wait_for()
    text = rows.all_inner_texts()
    assert any("package.submitted" in r and OPERATION in r for r in text), text
    assert any("package.approved" in r and OPHEAD in r for r in text), text
    page.get_by_label("Entity type", exact=True).fill("")
    page.get_by_label("Entity id", exact=True).fill("")
    page.get_by_label("Action", exact=True).fill("payment.recorded")
    page.get_by_role("button", name="Apply").click()
    row = page.locator("tbody tr", has_text=reference)
    row.wait_for()
    assert FINANCE in row.inner_text() and "bank_transfer" in row.inner_text()
    accessible(page, "audit log")
    screenshot(page, "admin-audit-log", shots)


def test_refused_actions_are_shown_in_words(as_role, base_url, shots):
    # 422: every field error next to its field.
    page = as_role(OPERATION)
    goto(page, base_url, "/packages/new")
    page.get_by_label("Duration (days)", exact=True).fill("0")
    page.get_by_role("button", name="Create package").click()
    page.get_by_role("alert").wait_for()
    assert "422" in page.get_by_role("alert").inner_text()
    title_error = page.locator("#err-title")
    assert title_error.is_visible() and title_error.inner_text()
    assert (
        page.get_by_label("Title", exact=True).get_attribute("aria-invalid") == "true"
    )
    assert page.locator("#err-duration_days").is_visible()
    accessible(page, "form with field errors")
    screenshot(page, "error-field-errors", shots)

    # 409: more seats than the departure has left, with the API's words.
    page = as_role(SALES)
    headers = api_token(base_url, SALES)
    customers = requests.get(
        f"{base_url}/api/v1/customers",
        params={"q": "Clara"},
        headers=headers,
        timeout=10,
    ).json()["items"]
    goto(page, base_url, f"/book?customer_id={customers[0]['id']}")
    package_select = page.get_by_label("Package", exact=True)
    package_select.select_option(index=1)
    departure = page.get_by_label("Departure", exact=True)
    departure.locator("option").nth(1).wait_for(state="attached")
    departure.select_option(index=1)
    page.get_by_label("Seats", exact=True).fill("50")
    page.get_by_role("button", name="Book and hold the seats").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "(409)" in alert.inner_text() and "seat" in alert.inner_text().lower()
    screenshot(page, "error-conflict", shots)


def test_maker_checker_button_absent_on_own_revision_and_403_explained(
    as_role, base_url, shots
):
    title = f"Maker checker {uuid.uuid4().hex[:6]}"
    headers = api_token(base_url, OPHEAD)
    package = requests.post(
        f"{base_url}/api/v1/packages",
        headers=headers,
        timeout=10,
        json={
            "title": title,
            "destination": "Lisbon",
            "duration_days": 1,
            "base_price": "300.00",
            "itinerary": [{"day_number": 1, "title": "Alfama walk"}],
        },
    ).json()
    submitted = requests.post(
        f"{base_url}/api/v1/packages/{package['id']}/submit",
        headers=headers,
        timeout=10,
    )
    assert submitted.status_code == 200, submitted.text

    # The author sees why there is no approve button.
    page = as_role(OPHEAD)
    goto(page, base_url, "/approvals")
    card = page.locator("article", has_text=title)
    card.wait_for()
    assert card.get_by_role("button", name=f"Approve {title}").count() == 0
    assert "maker-checker" in card.inner_text()

    # Another head's screen is stale: they edited the revision in another tab, so
    # the API refuses their approval (403) and the page says why.
    page = as_role(OPHEAD2)
    goto(page, base_url, "/approvals")
    card = page.locator("article", has_text=title)
    approve = card.get_by_role("button", name=f"Approve {title}")
    approve.wait_for()
    edited = requests.patch(
        f"{base_url}/api/v1/packages/{package['id']}",
        timeout=10,
        headers=api_token(base_url, OPHEAD2),
        json={"description": "Edited"},
    )
    assert edited.status_code == 200, edited.text
    approve.click()
    alert = card.get_by_role("alert")
    alert.wait_for()
    assert "(403)" in alert.inner_text()
    assert "another operation head" in alert.inner_text()
    screenshot(page, "error-maker-checker", shots)


def test_keyboard_only_sign_in_and_navigation(browser, base_url):
    require_browser_tools()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{base_url}/dashboard")
    page.get_by_label("Email", exact=True).wait_for()
    page.keyboard.type(FINANCE)  # the email field has focus on load
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=re.compile("^Welcome")).wait_for()
    # Where focus sits after sign-in (the page title, or still the header while
    # the home tiles load) decides how many stops come before the menu: at most
    # one round of the page's tab stops.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Invoices":
            break
    assert page.evaluate("document.activeElement.textContent") == "Invoices"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Invoices").wait_for()
    assert page.evaluate("document.activeElement.id") == "page-title"
    page.locator(".skip-link").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith("#/invoices")
    context.close()


def test_tablet_width_without_horizontal_scroll(as_role, base_url, shots):
    page = as_role(SALES, viewport=TABLET)
    for route in ("/", "/customers", "/catalogue", "/enquiries"):
        goto(page, base_url, route)
        page.locator("table, .column, .tiles").first.wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= TABLET["width"], (route, width)
    accessible(page, "enquiry board")
    screenshot(page, "sales-enquiries-tablet", shots)
    page = as_role(OPERATION, viewport=TABLET)
    goto(page, base_url, "/packages/new")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]


def test_logout_revokes_the_session(as_role, base_url):
    page = as_role(ADMIN)
    token = page.evaluate(
        "JSON.parse(sessionStorage.getItem('easytravels.dashboard.session')).access"
    )
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    me = requests.get(
        f"{base_url}/api/v1/auth/me",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.status_code == 401


def test_admin_employees_and_every_role_home_accessible(as_role, base_url, shots):
    page = as_role(ADMIN)
    accessible(page, "admin home")
    page.get_by_role("link", name="Employees").click()
    page.get_by_role("cell", name="hr@easytravels.test").wait_for()
    accessible(page, "employees")
    screenshot(page, "admin-employees", shots)
    email = f"new.{uuid.uuid4().hex[:6]}@easytravels.test"
    form = page.locator("form", has_text="Create an employee")
    form.get_by_label("Name", exact=True).fill("Nora Quinn")
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("Role", exact=True).select_option("finance")
    form.get_by_label("Initial password", exact=True).fill("a-long-password-1")
    form.get_by_role("button", name="Create employee").click()
    page.get_by_role("status").get_by_text("Employee Nora Quinn created.").wait_for()
    page.get_by_label("Search name or email", exact=True).fill(email)
    page.get_by_role("button", name="Apply").click()
    page.get_by_label("Role of Nora Quinn").select_option("sales")
    page.get_by_role("status").get_by_text("Nora Quinn is now sales.").wait_for()
    page.get_by_role("button", name="Deactivate Nora Quinn").click()
    page.get_by_role("button", name="Reactivate Nora Quinn").wait_for()
    admin = api_token(base_url, ADMIN)
    nora = requests.get(
        f"{base_url}/api/v1/employees", params={"q": email}, headers=admin, timeout=10
    ).json()["items"][0]
    assert (nora["role"], nora["active"]) == ("sales", False)
    for email_, screen in ((OPHEAD, "ophead home"), ("hr@easytravels.test", "hr home")):
        accessible(as_role(email_), screen)


def _published_departure(base_url, capacity=10):
    """A package approved by another head, with one departure in 60 days; its ids."""
    op, head = api_token(base_url, OPERATION), api_token(base_url, OPHEAD2)
    package = requests.post(
        f"{base_url}/api/v1/packages",
        headers=op,
        timeout=10,
        json={
            "title": f"Douro valley {uuid.uuid4().hex[:6]}",
            "destination": "Porto",
            "duration_days": 2,
            "base_price": "400.00",
            "itinerary": [{"day_number": 1, "title": "Wine cellars"}],
        },
    ).json()
    start = date.today() + timedelta(days=60)
    departure = requests.post(
        f"{base_url}/api/v1/packages/{package['id']}/departures",
        headers=op,
        timeout=10,
        json={
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=1)).isoformat(),
            "capacity": capacity,
            "price": "400.00",
        },
    ).json()
    for action, headers in (("submit", op), ("approve", head)):
        answer = requests.post(
            f"{base_url}/api/v1/packages/{package['id']}/{action}",
            headers=headers,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
    return package, departure


def _book(base_url, departure_id, travellers):
    """A staff booking for Clara Byrne with named travellers (sales)."""
    sales = api_token(base_url, SALES)
    customer = requests.get(
        f"{base_url}/api/v1/customers", params={"q": "Clara"}, headers=sales, timeout=10
    ).json()["items"][0]
    answer = requests.post(
        f"{base_url}/api/v1/bookings",
        headers=sales,
        timeout=10,
        json={
            "departure_id": departure_id,
            "seats": len(travellers),
            "customer_id": customer["id"],
            "travellers": [{"name": n, "birth_date": "1985-05-05"} for n in travellers],
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_departure_occupancy_manifest_and_cancel_after_refund_preview(
    as_role, base_url, shots
):
    _package, departure = _published_departure(base_url)
    held = _book(base_url, departure["id"], ["Ana Lopes", "Rui Lopes"])
    paid = _book(base_url, departure["id"], ["Clara Byrne"])
    payment = requests.post(
        f"{base_url}/api/v1/bookings/{paid['id']}/payments",
        timeout=10,
        headers=api_token(base_url, FINANCE),
        json={
            "amount": paid["total_amount"],
            "method": "bank_transfer",
            "reference": "SEPA-9",
        },
    )
    assert payment.status_code == 201, payment.text

    page = as_role(OPHEAD)
    goto(page, base_url, f"/departures/{departure['id']}")
    stats = {
        row.locator("dt").inner_text(): row.locator("dd").inner_text()
        for row in page.locator(".stats > div").all()
    }
    assert stats == {
        "Capacity": "10",
        "Taken": "3",
        "Held": "2",
        "Confirmed seats": "1",
        "Left": "7",
    }, stats
    manifest = page.locator(".manifest")
    for name in ("Ana Lopes", "Rui Lopes", "Clara Byrne"):
        assert manifest.get_by_role("cell", name=name).count() == 1
    assert page.get_by_role("button", name="Print manifest").is_visible()
    accessible(page, "departure")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    screenshot(page, "operation-manifest-print", shots)
    page.emulate_media(media="screen")

    page.get_by_label("Capacity (seats)", exact=True).fill("12")
    page.get_by_role("button", name="Save departure").click()
    page.get_by_role("status").get_by_text("Departure saved.").wait_for()
    page.locator(".stats > div", has_text="Left").get_by_text(
        "9", exact=True
    ).wait_for()

    page.get_by_label("Reason", exact=True).fill("Rail strike on the Douro line")
    page.get_by_label("Refund to", exact=True).select_option("original")
    page.get_by_role("button", name="Preview refunds").click()
    preview = page.get_by_role("table", name="Refunds that cancelling would make")
    preview.wait_for()
    assert (
        paid["reference"] in preview.inner_text()
        and held["reference"] in preview.inner_text()
    )
    total = page.get_by_role("heading", name=re.compile("^Refund preview")).inner_text()
    assert "400.00" in total, (
        total
    )  # the paid seat back in full; the unpaid hold costs nothing
    assert (
        requests.get(
            f"{base_url}/api/v1/departures/{departure['id']}",
            timeout=10,
            headers=api_token(base_url, OPHEAD),
        ).json()["status"]
        != "cancelled"
    )
    screenshot(page, "operation-cancel-preview", shots)
    page.get_by_role("button", name="Cancel the departure and refund").click()
    page.locator(".badge", has_text="cancelled").first.wait_for()

    # finance completes the refund of the bank transfer and credits a goodwill gesture.
    page = as_role(FINANCE)
    page.get_by_role("link", name="Refunds").click()
    row = page.locator("tbody tr", has=page.get_by_role("link", name=f"#{paid['id']}"))
    row.get_by_role("button", name=re.compile("^Complete refund")).click()
    row.get_by_label("Bank reference", exact=True).fill("SEPA-RETURN-9")
    accessible(page, "refunds")
    screenshot(page, "finance-refunds", shots)
    row.get_by_role("button", name="Confirm").click()
    page.get_by_role("status").get_by_text("Refund marked completed.").wait_for()
    goto(page, base_url, f"/customers/{paid['customer_id']}")
    page.get_by_label("Amount (negative to debit)", exact=True).fill("25.00")
    reason = f"Goodwill for the cancelled trip {uuid.uuid4().hex[:6]}"
    page.get_by_label("Reason", exact=True).fill(reason)
    page.get_by_role("button", name="Record adjustment").click()
    page.get_by_role("cell", name=reason).wait_for()


def test_enquiry_board_thread_and_stage_move(as_role, base_url, shots):
    sales = api_token(base_url, SALES)
    customer = requests.get(
        f"{base_url}/api/v1/customers", params={"q": "Clara"}, headers=sales, timeout=10
    ).json()["items"][0]
    subject = f"Honeymoon in Kyoto {uuid.uuid4().hex[:6]}"
    created = requests.post(
        f"{base_url}/api/v1/enquiries",
        headers=sales,
        timeout=10,
        json={
            "customer_id": customer["id"],
            "subject": subject,
            "message": "Dates in April?",
        },
    )
    assert created.status_code == 201, created.text
    page = as_role(SALES)
    goto(page, base_url, "/enquiries")
    page.get_by_label("Search the board", exact=True).fill(subject)
    page.get_by_role("button", name="Show on the board").click()
    page.locator(".column").first.get_by_role("link", name=subject).click()
    page.get_by_label("Add a note", exact=True).wait_for()
    note = page.get_by_label("Add a note", exact=True)
    note.fill("Called back; the customer sends dates tomorrow.")
    page.get_by_role("button", name="Add note").click()
    page.locator(".thread").get_by_text("the customer sends dates tomorrow").wait_for()
    stage = page.get_by_label("Stage", exact=True)
    options = stage.locator("option").evaluate_all("els => els.map(e => e.value)")
    target = options[options.index(stage.input_value()) + 1]  # the next stage
    stage.select_option(target)
    page.get_by_role("button", name="Move").click()
    page.get_by_role("status").get_by_text("Enquiry moved.").wait_for()
    assert page.get_by_label("Stage", exact=True).input_value() == target
    accessible(page, "enquiry thread")
    screenshot(page, "sales-enquiry-thread", shots)


def test_access_token_refreshed_before_it_expires(browser, base_url):
    require_browser_tools()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.clock.install()
    page.goto(f"{base_url}/dashboard")
    page.get_by_label("Email", exact=True).fill(SALES)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("^Welcome")).wait_for()
    read = "JSON.parse(sessionStorage.getItem('easytravels.dashboard.session'))"
    before = page.evaluate(read)
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/auth/refresh")
    ) as answer:
        page.clock.run_for(before["expiresAt"] - page.evaluate("Date.now()") - 30_000)
    assert answer.value.status == 200
    sent = answer.value.request.headers["authorization"]
    assert (
        sent == f"Bearer {before['refresh']}"
    )  # the refresh token, not the access one
    fresh = answer.value.json()["access_token"]
    deadline = time.monotonic() + 10  # the page stores it once it has read the body
    while page.evaluate(read)["access"] != fresh and time.monotonic() < deadline:
        time.sleep(0.05)
    after = page.evaluate(read)
    assert after["access"] == fresh
    assert after["expiresAt"] > before["expiresAt"]
    goto(page, base_url, "/customers")
    page.get_by_label("Search name, email or phone", exact=True).fill("Clara")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("link", name=CUSTOMER_NAME).first.wait_for()
    context.close()


def test_sales_registers_a_customer_and_a_duplicate_email_is_refused(as_role, base_url):
    email = f"walk.in.{uuid.uuid4().hex[:6]}@example.com"
    page = as_role(SALES)
    for attempt in range(2):
        goto(page, base_url, "/customers")
        form = page.locator("form", has_text="Register a customer")
        form.get_by_label("Name", exact=True).fill("Walk In")
        form.get_by_label("Email", exact=True).fill(email)
        form.get_by_role("button", name="Register customer").click()
        if attempt == 0:
            page.get_by_role("heading", name="Walk In").wait_for()
            assert page.get_by_role(
                "link", name="Book a trip for this customer"
            ).is_visible()
    alert = form.get_by_role("alert")
    alert.wait_for()
    assert re.search(r"\((409|422)\)", alert.inner_text()), alert.inner_text()
    assert "email" in (alert.inner_text() + form.inner_text()).lower()
