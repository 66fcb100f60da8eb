"""What the browser tests do with a page, as a person would: sign in, switch language, follow a link, fill a form,
and keep a screenshot of what they saw."""

from __future__ import annotations

import re
from pathlib import Path

from selenium.common.exceptions import (
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import DESKTOP, PASSWORD

HAN = re.compile(r"[\u4e00-\u9fff]")


class Browser:
    def __init__(self, driver, base: str, shots: Path):
        self.driver = driver
        self.base = base
        self.shots = shots
        self.size = DESKTOP
        self.who: str | None = None  # who is signed in

    # -- moving about --

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base)

    def wait_for_path(self, prefix: str, timeout: float = 15) -> str:
        WebDriverWait(self.driver, timeout).until(lambda d: d.current_url.removeprefix(self.base).startswith(prefix))
        return self.path()

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "body") -> str:
        return self.find(css).text

    def click(self, css: str) -> None:
        """Click and wait for the page that follows (a link or a form's button)."""
        old = self.find("html")
        self.find(css).click()
        WebDriverWait(self.driver, 15).until(lambda _driver: _detached(old))

    def submit(self, form_css: str) -> None:
        self.click(f"{form_css} button[type=submit], {form_css} input[type=submit]")

    def fill(self, values: dict[str, str]) -> None:
        for css, value in values.items():
            field = self.find(css)
            field.clear()
            field.send_keys(value)

    # -- who and how --

    def resize(self, size: tuple[int, int]) -> None:
        if size != self.size:
            self.driver.set_window_size(*size)
            self.size = size

    def sign_in(self, username: str, size: tuple[int, int] = DESKTOP) -> None:
        """Sign in on the sign-in page (the cookies of whoever came before thrown away), landing on the workbench."""
        self.resize(size)
        self.driver.delete_all_cookies()
        self.open("/login")
        self.fill({"#username": username, "#password": PASSWORD})
        old = self.find("html")
        self.find("#password").send_keys(Keys.ENTER)
        WebDriverWait(self.driver, 15).until(lambda _driver: _detached(old))
        assert self.path() in ("", "/"), f"signing in as {username} landed on {self.path()}: {self.text()[:300]}"
        self.who = username

    def language(self, code: str) -> None:
        """Switch the language with the /lang link (back to the page it was asked from)."""
        self.open(f"/lang/{code}")
        expected = "zh-CN" if code.startswith("zh") else "en"
        assert self.find("html").get_attribute("lang") == expected

    # -- what was seen --

    def shot(self, name: str) -> Path:
        """A screenshot of the whole page (as tall as its content) at the current width."""
        width = self.size[0]
        height = self.driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
        chrome = self.driver.execute_script("return window.outerHeight - window.innerHeight")  # the window's frame
        self.driver.set_window_size(width, min(max(height, 400), 6000) + chrome)
        path = self.shots / f"{name}-{width}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(*self.size)
        assert path.stat().st_size > 1000
        return path

    def overflow(self) -> int:
        """How many CSS pixels the page is wider than the window (0: nothing to scroll sideways)."""
        return self.driver.execute_script(
            "return Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)")

    def wide(self, within: str = "main") -> list[str]:
        """The elements (in ``within``) that reach past the window's right edge (what makes a phone scroll
        sideways); elements inside a box that scrolls by itself (a wide table's wrapper) do not count."""
        return self.driver.execute_script("""
            const out = [], width = document.documentElement.clientWidth;
            const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
                const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
              return false; };
            for (const e of document.querySelectorAll(arguments[0] + ' *')) {
              if (scrolls(e)) continue;
              const r = e.getBoundingClientRect();
              if (r.right > width + 1 && r.width > 0) out.push(`${e.tagName.toLowerCase()}.${e.className}#${e.id} → ${Math.round(r.right)}px`);
            }
            return out.slice(0, 12);""", within)

    def fits(self, within: str = "main") -> None:
        """Nothing in the page's content (``main``) reaches past the window at this width. (The header's
        navigation is the phone layout's own business, base.html.)"""
        wide = self.wide(within)
        assert not wide, f"{self.path()}: content wider than {self.size[0]}px: {wide}"

    def not_an_error_page(self) -> None:
        """Not the error page (core/templates/error.html: its alert and its error code)."""
        text = self.text()
        assert "错误代码" not in text and "Error code" not in text, text[:500]

    def keyboard_to(self, element_id: str, limit: int = 80) -> None:
        """Press Tab from the top of the page until the field ``element_id`` has the focus (keyboard only)."""
        self.driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        for _ in range(limit):
            if self.driver.execute_script("return document.activeElement && document.activeElement.id") == element_id:
                return
            self.driver.switch_to.active_element.send_keys(Keys.TAB)
        raise AssertionError(f"{limit} presses of Tab never reached #{element_id}")

    def type_keys(self, *keys: str) -> None:
        """Type into whatever has the focus."""
        self.driver.switch_to.active_element.send_keys(*keys)


def _detached(element) -> bool:
    """Whether ``element`` has left its document (selenium's ``staleness_of``, and Chromium's answer to a node it
    is detaching as the next page loads: "Node with given id does not belong to the document", seen in CI)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False
