"""Browser journeys: the portal driven the way clerks use it, in Debian's headless Chromium.

Each journey logs in through the real login form against pytest-django's ``live_server``
(transactional database), walks its pages, asserts what a user would read, and saves
screenshots of the key screens under ``test-artifacts/journeys/<journey>/<nn>-<step>.png``.

Without /usr/bin/chromium (a laptop without Debian's package) the journeys are skipped with a
message saying how to get it; CI (`.ci/run`) installs it before `make test`.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio loop in this thread; the ORM calls the test makes
# between browser steps are ordinary synchronous calls and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CANBAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",  # date inputs read 年/月/日, as on the clerks' machines
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "journeys"
# axe-core, vendored (offline): WCAG 2.0/2.1 A and AA rules on every page a journey visits.
AXE = (Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}).then(r =>
  r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                          where: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"""
PASSWORD = "test-pass-123456"  # the password tests.factories.UserFactory sets

DESKTOP = {"width": 1366, "height": 768}  # the office screen
PHONE = {"width": 390, "height": 844}  # a collector's phone in the field

SKIP_REASON = (
    f"browser journeys skipped: no Chromium at {CHROMIUM}. "
    "Install Debian's package (apt-get install chromium fonts-noto-cjk) or set CANBAO_CHROMIUM; "
    "CI (.ci/run) installs it before `make test`."
)


def _have_chromium() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def _have_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    reason = None
    if not _have_chromium():
        reason = SKIP_REASON
    elif not _have_playwright():
        reason = "browser journeys skipped: the `playwright` package is not installed (pip install -e '.[dev]')."
    for item in items:
        if Path(str(item.fspath)).resolve().parent != here:
            continue
        item.add_marker(pytest.mark.browser)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class Journey:
    """One user's way through the portal in one browser context, with numbered screenshots."""

    def __init__(self, browser, base_url: str, name: str, viewport: dict):
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.dir = ARTIFACTS / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.step = 0
        self.context = browser.new_context(
            viewport=viewport,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            accept_downloads=True,
            device_scale_factor=1,
            is_mobile=viewport["width"] < 700,
            has_touch=viewport["width"] < 700,
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.js_errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.js_errors.append(f"{self.page.url}: {exc}"))
        self.page.on(
            "console",
            lambda msg: self.js_errors.append(f"{self.page.url}: {msg.text}")
            if msg.type == "error" and ("Content Security Policy" in msg.text or "Failed to load resource" in msg.text)
            else None,
        )
        self.page.on("dialog", lambda d: d.accept())  # data-confirm prompts: the clerk clicks 确定
        # A page's own calls to the API (the desk's totals, the form's quotes) must not break (a 4xx is an answer the page shows).
        self.page.on("response", lambda r: self.js_errors.append(f"{r.status} {r.url}") if r.status >= 500 and "/api/" in r.url else None)
        self.a11y: dict[str, list[dict]] = {}  # page path → axe violations

    # -- navigation ---------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def goto(self, path: str):
        resp = self.page.goto(self.url(path))
        assert resp is not None and resp.status < 400, f"{path} answered {resp and resp.status}"
        self.check_a11y()
        return resp

    def check_a11y(self):
        """axe-core's WCAG A/AA rules on the page as it is now (run through the DevTools protocol,
        so the portal's CSP, which the journeys also check, stays as it is)."""
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.evaluate(AXE)
        found = self.page.evaluate(AXE_RUN, AXE_TAGS)
        if found:
            path = self.page.url.removeprefix(self.base_url)
            self.a11y.setdefault(path, [])
            seen = {v["id"] for v in self.a11y[path]}
            self.a11y[path] += [v for v in found if v["id"] not in seen]

    def assert_accessible(self):
        lines = [f"{path}: {v['impact']} {v['id']} ×{v['nodes']} ({v['help']}) at {', '.join(v['where'])}"
                 for path, found in self.a11y.items() for v in found]
        assert not lines, "axe-core (WCAG 2 A/AA) violations:\n" + "\n".join(lines)

    def login(self, username: str, password: str = PASSWORD, shot: bool = False):
        """Through the real login form, as a clerk does (the axes backend sees a real request)."""
        self.page.goto(self.url("/accounts/login/"))
        self.check_a11y()
        self.page.get_by_label("用户名").fill(username)
        self.page.get_by_label("密码").fill(password)
        if shot:
            self.shot("login", help=False)
        self.follow(self.page.get_by_role("button", name="登录"))
        assert "/accounts/login/" not in self.page.url, f"login as {username} failed: {self.body_text()[:300]}"

    def settle(self):
        """Wait until the page's own requests (checks and quotes as one types) are answered: the
        test database is SQLite shared in memory, where a write beside a read is refused, not queued."""
        self.page.wait_for_load_state("networkidle")

    def follow(self, locator):
        """Click a link or submit button and wait until the next page has loaded."""
        with self.page.expect_navigation():
            locator.click()
        self.page.wait_for_load_state()
        self.check_a11y()

    def nav(self, label: str):
        """Open a page from the side menu (through the ☰ toggle on a phone)."""
        toggle = self.page.locator(".menu-toggle")
        if toggle.is_visible():
            toggle.click()
        self.follow(self.page.locator("#mainnav").get_by_role("link", name=label, exact=True))

    # -- reading the screen --------------------------------------------------------------------
    def body_text(self) -> str:
        return self.page.locator("body").inner_text()

    def heading(self) -> str:
        return self.page.locator("main h1").first.inner_text().strip()

    def messages(self) -> str:
        loc = self.page.locator(".messages, .msg")
        return "\n".join(loc.all_inner_texts())

    def see(self, *texts: str):
        body = self.body_text()
        for text in texts:
            assert text in body, f"expected to read {text!r} on {self.page.url}; page says:\n{body[:1500]}"

    def see_message(self, pattern: str):
        text = self.messages()
        assert re.search(pattern, text), f"expected a message matching {pattern!r} on {self.page.url}; got {text!r}"

    # -- evidence --------------------------------------------------------------------------------
    def shot(self, step: str, full_page: bool = True, help: bool = True) -> Path:
        """Save the screen. Every working page carries help for the rule it applies; say
        ``help=False`` for the few that need none (home, print layouts)."""
        if help:
            box = self.page.locator(".help-box").first
            assert box.count() and box.inner_text().strip(), f"{self.page.url} has no help text for its rule"
        self.check_a11y()  # the screen as shown (rows added, panels opened)
        self.step += 1
        path = self.dir / f"{self.step:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def shot_print(self, step: str) -> Path:
        """The page as it prints (print stylesheet applied)."""
        self.page.emulate_media(media="print")
        try:
            return self.shot(step, help=False)
        finally:
            self.page.emulate_media(media="screen")

    def download(self, click) -> Path:
        """Run ``click()`` (which starts a download) and keep the file next to the screenshots."""
        with self.page.expect_download() as info:
            click()
        dl = info.value
        target = self.dir / dl.suggested_filename
        dl.save_as(str(target))
        return target

    def assert_no_js_errors(self):
        assert not self.js_errors, "JavaScript errors, CSP violations or missing files:\n" + "\n".join(self.js_errors)

    def assert_fits_width(self):
        """Nothing makes the whole page scroll sideways (tables may scroll inside .table-wrap)."""
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{self.page.url} is {overflow}px wider than the screen"

    def close(self):
        self.context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.when == "call":
        item.journey_failed = rep.failed
    return rep


@pytest.fixture
def journey(request, browser, live_server, transactional_db):
    """``journey("collector_day")`` → a Journey at 1366×768; pass ``viewport=PHONE`` for a phone."""
    opened = []

    def make(name: str, viewport: dict = DESKTOP, fresh: bool = True) -> Journey:
        if fresh and all(j.name != name for j in opened):  # this run's screenshots only
            shutil.rmtree(ARTIFACTS / name, ignore_errors=True)
        j = Journey(browser, live_server.url, name, viewport)
        opened.append(j)
        return j

    yield make
    failed = getattr(request.node, "journey_failed", False)
    problems = []
    for j in opened:
        if not failed:
            try:
                j.assert_accessible()
            except AssertionError as exc:
                problems.append(str(exc))
    for j in opened:
        if getattr(request.node, "journey_failed", False):
            try:  # what the user saw when the journey broke
                j.shot("FAILED", help=False)
                (j.dir / f"{j.step:02d}-FAILED.txt").write_text(f"{j.page.url}\n\n{j.body_text()}", encoding="utf-8")
            except Exception:  # noqa: BLE001 - evidence is best effort
                pass
        j.close()
    assert not problems, "\n".join(problems)
