"""Browser-test plumbing: Debian's Chromium driven by Playwright, axe-core injected from node_modules."""

import json
import os
from pathlib import Path

import pytest
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CARNET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]


@pytest.fixture
def browser_page():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's chromium package (.ci/run does).")
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` (make test does).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM use stays synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # axe is injected as a script; CSP (nonces) would block it, so the test context bypasses CSP.
        context = browser.new_context(bypass_csp=True, locale="fr-FR")
        page = context.new_page()
        yield page
        # ORM calls made while Playwright's loop runs use a connection of that context: close it while
        # still inside, or the test database cannot be dropped at the end of the run.
        connections.close_all()
        context.close()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    connections.close_all()


def axe_violations(page) -> list[dict]:
    """Run axe-core (WCAG 2.x A/AA rules) on the current page; returns the violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: " + json.dumps(violations, ensure_ascii=False, indent=1)
