from tests.portal.browser import browser_page  # noqa: F401 - a fixture for the browser tests
