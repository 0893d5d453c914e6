#!/usr/bin/python3
"""The README's main job in a real browser: pipelines/marketplace.yaml, unchanged, run by one daemon
on the embedded broker, once on the embedded index (ES_HOSTS unset) and once on a real OpenSearch
2.19 node (ES_HOSTS set); Debian's Chromium, headless, driven by Selenium through chromium-driver.

What a newcomer does after the README's first command: the shipped sample is searchable; they open
the home page, type "macbook air" into the header's search box and submit; the results show a
MacBook Air first with its words highlighted (a screenshot of the results page is kept in
<build>/test-artifacts/srp-results-<backend>.png); they open it. Two listings created with
`POST /listings` are found by the page; after the browser opens the less relevant one three times and
the aggregator's window closes, `sort=hot` puts it first. A listing titled
`<script>alert(1)</script><img src=x onerror=alert(1)>`, created the same way, shows as text and no
dialog opens. Registered as ctest `browser.srp` (label `browser`), in the normal suite only.
"""
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from sluice_test import Sluice, check, free_port, run, wait_until  # noqa: E402

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
# Created through the ingest API, as the seed's "create listing" step does; no sample listing has
# these words.
HAMMOCK = {"id": 9001, "title": "Zanzibar hammock, barely used",
           "description": "A hammock from Zanzibar for two, with its straps"}
SPICES = {"id": 9002, "title": "Zanzibar spice box", "description": "Wooden box of spices from Zanzibar"}
EVIL = {"id": 9666, "title": HOSTILE, "description": "alert " + HOSTILE}


def post(port, listing):
    req = urllib.request.Request("http://127.0.0.1:%d/listings" % port, data=json.dumps(listing).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=20) as r:
        check(r.status == 200, "POST /listings: %d" % r.status)


def api(port, query):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/search?%s" % (port, query), timeout=10) as r:
        return json.loads(r.read())


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def no_dialog(driver):
    from selenium.common.exceptions import NoAlertPresentException
    try:
        text = driver.switch_to.alert.text
    except NoAlertPresentException:
        return True
    raise AssertionError("a dialog opened: %r" % text)


def main(env):
    sample = os.path.join(env.source_dir, "pipelines", "data", "sample-listings.jsonl")
    with open(sample) as f:
        sample_count = sum(1 for line in f if line.strip())
    check_in_browser(env, "embedded", {}, sample, sample_count)
    from opensearch_node import OpenSearchNode
    with OpenSearchNode() as node:
        check_in_browser(env, "opensearch", {"ES_HOSTS": node.url}, sample, sample_count)


def check_in_browser(env, backend, extra, sample, sample_count):
    """The whole story on one backend: marketplace.yaml with @extra variables (ES_HOSTS)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    print("--- %s" % backend, flush=True)
    port, ingest = free_port(), free_port()
    variables = dict(extra, SRP_LISTEN="127.0.0.1:%d" % port, INGEST_LISTEN="127.0.0.1:%d" % ingest,
                     SAMPLE_LISTINGS=sample, ACCESS_LOG=env.path("access-%s.log" % backend))
    artifacts = os.path.join(env.build_dir, "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    with Sluice(env, [env.pipeline("marketplace.yaml")], extra_env=variables, name="browser-" + backend) as daemon:
        wait_until(lambda: daemon.check_alive() or _total(port) == sample_count, 120,
                   "the %d sample listings searchable" % sample_count)
        for listing in (HAMMOCK, SPICES, EVIL):
            post(ingest, listing)
        wait_until(lambda: _total(port) == sample_count + 3, 20, "the posted listings searchable")
        driver = browser()
        try:
            wait = WebDriverWait(driver, 20)
            driver.get("http://127.0.0.1:%d/" % port)
            box = driver.find_element(By.CSS_SELECTOR, "header form.search-box input[name=q]")
            box.send_keys("macbook air")
            box.send_keys(Keys.RETURN)
            wait.until(ec.url_contains("/search?q=macbook"))
            first = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".hits .hit")))
            marks = {e.text.lower() for e in first.find_elements(By.CSS_SELECTOR, "em")}
            check({"macbook", "air"} <= marks, "the first result highlights the words: %s" % marks)
            link = first.find_element(By.CSS_SELECTOR, "h2 a")
            title = link.text
            check("macbook air" in title.lower(), "a MacBook Air is first: %s" % first.text)
            driver.save_screenshot(os.path.join(artifacts, "srp-results-%s.png" % backend))
            no_dialog(driver)

            link.click()
            wait.until(ec.url_contains("/item/"))
            check(driver.find_element(By.TAG_NAME, "h1").text == title, "the item page of %r" % title)

            # Three views of the spice box: after the aggregator's window, hot puts it first.
            relevant = [h["id"] for h in api(port, "q=zanzibar+hammock")["hits"]]
            check(relevant[:1] == ["9001"], "by relevance the hammock is first: %s" % relevant)
            for _ in range(3):
                driver.get("http://127.0.0.1:%d/item/9002" % port)
            wait_until(lambda: [h["id"] for h in api(port, "q=zanzibar+hammock&sort=hot")["hits"]][:1] == ["9002"],
                       30, "sort=hot to put the viewed listing first")
            driver.get("http://127.0.0.1:%d/search?q=zanzibar+hammock&sort=hot" % port)
            top = driver.find_element(By.CSS_SELECTOR, ".hits .hit")
            check("spice box" in top.text, "the hot page shows the spice box first: %s" % top.text)

            # The hostile listing is text, and nothing runs.
            driver.get("http://127.0.0.1:%d/search?q=alert" % port)
            title = driver.find_element(By.CSS_SELECTOR, ".hits .hit h2").text
            check(title == HOSTILE, "the hostile title shows as text: %r" % title)
            check(not driver.find_elements(By.CSS_SELECTOR, "main img, main script"), "no element made from it")
            time.sleep(0.5)  # an onerror handler would have run by now
            no_dialog(driver)
            driver.get("http://127.0.0.1:%d/item/9666" % port)
            check(driver.find_element(By.TAG_NAME, "h1").text == HOSTILE, "the item page shows it as text")
            no_dialog(driver)
        finally:
            driver.quit()
        daemon.check_alive()
        check(daemon.stop() == 0, "clean stop:\n%s" % daemon.log_tail())


def _total(port):
    try:
        return api(port, "q=")["total"]
    except OSError:
        return -1


if __name__ == "__main__":
    run(main)
