#!/usr/bin/python3
"""The search page in a real browser: Debian's Chromium, headless, driven by Selenium through
chromium-driver, against a real daemon, on each backend: the embedded index, then a real OpenSearch
2.19 node (the page's views counted by the aggregate transform into `visits` of the same index, so
searching, opening and "hot" are one loop).

A user opens the home page, types "macbook air" into the header's search box and submits; the
results show the seed's listing first with its words highlighted (a screenshot of the results page
is kept in <build>/test-artifacts/srp-results-<backend>.png); they open it; after they open another listing three times and
the aggregator's window closes, `sort=hot` puts that one first; a listing titled
`<script>alert(1)</script><img src=x onerror=alert(1)>` shows as text and no dialog opens.
Registered as ctest `browser.srp` (label `browser`), in the normal suite only.
"""
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from sluice_test import Sluice, check, free_port, run, wait_until  # noqa: E402

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
LISTINGS = [
    {"id": 42, "title": 'Used MacbookAir 13"', "description": "This is a used Macbook Air in great condition"},
    {"id": 43, "title": "Lenovo laptop 15", "description": "A fast laptop, lighter than a macbook"},
    {"id": 666, "title": HOSTILE, "description": "alert " + HOSTILE},
]


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
    check_in_browser(env, "embedded", "embedded", "")
    from opensearch_node import OpenSearchNode
    with OpenSearchNode() as node:
        node.create_index("listing_index", shards=1, mappings={"properties": {
            "id": {"type": "keyword"}, "title": {"type": "text"}, "description": {"type": "text"},
            "visits": {"type": "long"}}})
        check_in_browser(env, "opensearch", node.url, ", refresh: wait_for")


def check_in_browser(env, backend, hosts, sink_options):
    """The whole story on one backend: the sinks write to @hosts (with @sink_options, YAML flow-map
    entries), the page searches it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    print("--- %s" % backend, flush=True)
    stdin = env.write("listings.jsonl", "".join(json.dumps(x) + "\n" for x in LISTINGS))
    pipeline = env.write("browser.yaml", """
pipelines:
  listings:
    source: {type: stdin, format: ndjson}
    sinks:
      - {type: elasticsearch, hosts: "%s", index: listing_index, id: "{id}", action: upsert%s}
  search-page:
    source: {type: srp, listen: "127.0.0.1:%d", hosts: "%s", index: listing_index}
    transforms:
      - {type: aggregate, group_by: [item_id], aggregates: {views: count}, window: 1s}
    sinks:
      - type: elasticsearch
        hosts: "%s"
        refresh: "%s"
        index: listing_index
        id: "{item_id}"
        action: increment
        increment: {field: visits, by: views}
""" % (hosts, sink_options, port, hosts, hosts, "false" if hosts == "embedded" else "wait_for"))
    artifacts = os.path.join(env.build_dir, "test-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    with Sluice(env, [pipeline], stdin_path=stdin, name="browser-" + backend) as daemon:
        wait_until(lambda: daemon.check_alive() or _total(port) == len(LISTINGS), 60, "the listings searchable")
        driver = browser()
        try:
            wait = WebDriverWait(driver, 20)
            driver.get("http://127.0.0.1:%d/" % port)
            box = driver.find_element(By.CSS_SELECTOR, "header form.search-box input[name=q]")
            box.send_keys("macbook air")
            box.send_keys(Keys.RETURN)
            wait.until(ec.url_contains("/search?q=macbook"))
            first = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".hits .hit")))
            marks = [e.text for e in first.find_elements(By.CSS_SELECTOR, "em")]
            check("Macbook" in marks and "Air" in marks, "the first result highlights the words: %s" % marks)
            check("This is a used" in first.text, "the seed's listing is first: %s" % first.text)
            driver.save_screenshot(os.path.join(artifacts, "srp-results-%s.png" % backend))
            no_dialog(driver)

            first.find_element(By.CSS_SELECTOR, "h2 a").click()
            wait.until(ec.url_contains("/item/42"))
            check('Used MacbookAir 13"' in driver.find_element(By.TAG_NAME, "h1").text, "the item page")

            # Three views of listing 43: after the aggregator's window, hot puts it first.
            before = [h["id"] for h in api(port, "q=macbook&sort=hot")["hits"]]
            for _ in range(3):
                driver.get("http://127.0.0.1:%d/item/43" % port)
            wait_until(lambda: [h["id"] for h in api(port, "q=macbook&sort=hot")["hits"]][:1] == ["43"], 30,
                       "sort=hot to put listing 43 first (before: %s)" % before)
            driver.get("http://127.0.0.1:%d/search?q=macbook&sort=hot" % port)
            top = driver.find_element(By.CSS_SELECTOR, ".hits .hit")
            check("Lenovo" in top.text, "the hot page shows listing 43 first: %s" % top.text)

            # The hostile listing is text, and nothing runs.
            driver.get("http://127.0.0.1:%d/search?q=alert" % port)
            title = driver.find_element(By.CSS_SELECTOR, ".hits .hit h2").text
            check(title == HOSTILE, "the hostile title shows as text: %r" % title)
            check(not driver.find_elements(By.CSS_SELECTOR, "main img, main script"), "no element made from it")
            time.sleep(0.5)  # an onerror handler would have run by now
            no_dialog(driver)
            driver.get("http://127.0.0.1:%d/item/666" % port)
            check(driver.find_element(By.TAG_NAME, "h1").text == HOSTILE, "the item page shows it as text")
            no_dialog(driver)
        finally:
            driver.quit()
        daemon.check_alive()


def _total(port):
    try:
        return api(port, "q=")["total"]
    except OSError:
        return -1


if __name__ == "__main__":
    run(main)
