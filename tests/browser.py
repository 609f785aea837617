"""A real headless Chromium for page tests: Debian's `chromium` driven through Debian's `chromedriver` by selenium.

Why these choices: the browser and its driver come from the same Debian packages (deploy/bootstrap.sh), so their
versions always match and selenium never downloads a driver or a browser (Service and binary paths are given,
which keeps Selenium Manager out). Every browser gets a fresh profile and no background traffic, so a test
sees only what the page itself loads. Without chromium the fixture fails the test: it never skips.

    def test_page(browser, server):
        log_in(browser, server, "staff", "password")
        browser.get(f"{server}/admin/")
"""
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1024", "--lang=vi")
PAGE_LOAD_SECONDS = 30
ACCEPT_LANGUAGES = "vi-VN,vi"

# Every attribute through which a page can make the browser fetch something (or send something somewhere).
URL_ATTRIBUTES = ("src", "href", "action", "srcset", "data", "poster", "formaction", "background")


def start_chromium():
    """A new headless Chromium with its own throw-away profile; raises when chromium or its driver is missing."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        raise RuntimeError(f"page tests need Debian's chromium and chromium-driver: {', '.join(missing)} missing "
                           "(deploy/bootstrap.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sdi-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # A Vietnamese reader's browser: headless Chromium ignores --lang and would send "Accept-Language: en-US,en".
    options.add_experimental_option("prefs", {"intl.accept_languages": ACCEPT_LANGUAGES})
    try:
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    except Exception:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
    return driver, profile


@pytest.fixture
def browser():
    """A fresh headless Chromium (new profile, no cookies) for one test."""
    driver, profile = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def log_in(driver, base_url: str, username: str, password: str) -> None:
    """Sign in through the admin's real login form, as a person does."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base_url}/admin/login/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    before = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "form#login-form [type=submit]").click()
    _replaced(driver, before)  # else the login form still found may be the one just submitted
    if driver.find_elements(By.ID, "login-form"):
        raise AssertionError(f"{username} could not sign in: {driver.find_element(By.TAG_NAME, 'body').text[:300]}")


def press_and_read_message(driver, button_xpath: str) -> str:
    """Press a button that posts a form and read the message list of the page that follows. The page before has
    a message list of its own (an earlier press): wait until the new page has replaced it, or its text is read."""
    from selenium.webdriver.common.by import By

    before = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, button_xpath).click()
    _replaced(driver, before)
    return driver.find_element(By.CSS_SELECTOR, "ul.messagelist").text


def _replaced(driver, before) -> None:
    """Wait until the page that `before` (its html element) belonged to has been replaced by the next one."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, PAGE_LOAD_SECONDS).until(expected_conditions.staleness_of(before))


def foreign_loads(driver) -> list[str]:
    """Everything the current page fetched, or names in an attribute that makes the browser fetch or send, on
    another origin than the page's own (scheme, host and port)."""
    page = driver.current_url
    origin = urlsplit(page)[:2]
    fetched = driver.execute_script(
        "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".map(entry => entry.name)")
    named = driver.execute_script(
        "const names = arguments[0]; const out = [];"
        "for (const element of document.querySelectorAll('*')) { for (const name of names) {"
        "  const value = element.getAttribute(name); if (value) out.push([name, value]); } }"
        "for (const sheet of document.styleSheets) { let rules; try { rules = sheet.cssRules; } catch (e) {"
        "  out.push(['stylesheet', sheet.href || 'unreadable stylesheet']); continue; }"
        "  for (const rule of rules) { for (const m of rule.cssText.matchAll(/url\\([\"']?([^\"')]+)/g))"
        "    out.push(['css', m[1]]); } }"
        "return out;", list(URL_ATTRIBUTES))
    urls = list(fetched)
    for name, value in named:  # srcset holds "url width, url width"
        urls += [part.split()[0] for part in value.split(",") if part.strip()] if name == "srcset" else [value]
    foreign = []
    for url in urls:
        absolute = urljoin(page, url.strip())
        scheme = urlsplit(absolute).scheme
        if scheme in ("data", "blob", "javascript", "about", "mailto"):
            continue
        if urlsplit(absolute)[:2] != origin:
            foreign.append(url)
    return sorted(set(foreign))
