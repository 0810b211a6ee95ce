#!/usr/bin/env python3
"""Opens a `mnist-softmax report` page in headless Chromium and checks that it renders:
every <img> has loaded (complete, naturalWidth > 0), the training-curve SVGs are there with their
lines, the page fetched nothing but local files, and the console shows no errors. Saves a
screenshot of the whole page, and optionally one for the README that leaves out everything from
the most-confident-errors montage down (the montage shows MNIST images, which must not be
committed).

Usage: check_report.py REPORT_DIR [--charts N] [--screenshot FILE] [--readme-screenshot FILE]
Needs Debian's chromium and chromium-driver, and `pip install selenium`.
"""
import argparse
import pathlib
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTH = 1360


def open_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={WIDTH},900", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def screenshot(driver, path, height):
    """The page from the top, `height` CSS pixels of it, at the report's width."""
    driver.set_window_size(WIDTH, 900)
    inner = driver.execute_script("return window.innerHeight")
    driver.set_window_size(WIDTH, 900 + int(height) - inner)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(path))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=pathlib.Path)
    parser.add_argument("--charts", type=int, default=2, help="training-curve charts expected (0 for a model without history)")
    parser.add_argument("--screenshot", type=pathlib.Path, help="write a screenshot of the whole page here")
    parser.add_argument("--readme-screenshot", type=pathlib.Path,
                        help="write a screenshot of the page down to the confusion matrix, without MNIST images, here")
    arguments = parser.parse_args()

    page = (arguments.report_dir / "index.html").resolve()
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))

    driver = open_browser()
    try:
        driver.get(page.as_uri())
        driver.execute_script("return document.readyState")
        images = driver.execute_script("""
            return Array.from(document.images).map(i => ({src: i.getAttribute('src'), complete: i.complete,
                                                          width: i.naturalWidth, height: i.naturalHeight}));""")
        check("the page has its 13 pictures (10 templates, colour scale, confusion, errors)", len(images) == 13, f"{len(images)} <img>")
        broken = [i["src"] for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
        check("every picture loaded", not broken, f"not loaded: {broken}")

        charts = driver.execute_script("""
            return Array.from(document.querySelectorAll('#curves svg')).map(s => ({
                lines: Array.from(s.querySelectorAll('polyline')).map(p => p.points.numberOfItems),
                width: s.getBoundingClientRect().width, texts: s.querySelectorAll('text').length}));""")
        check(f"{arguments.charts} training-curve charts", len(charts) == arguments.charts, f"found {len(charts)}")
        check("every chart has lines with points, ticks and labels, and is visible",
              all(c["lines"] and all(n > 0 for n in c["lines"]) and c["texts"] >= 8 and c["width"] > 300 for c in charts),
              str(charts))
        if arguments.charts == 0:
            unavailable = driver.execute_script("return document.querySelector('#curves .unavailable')?.textContent || ''")
            check("the page says why the curves are unavailable", "unavailable" in unavailable, unavailable)

        resources = driver.execute_script("return performance.getEntriesByType('resource').map(r => r.name)")
        remote = [r for r in resources if not r.startswith("file:")]
        check("nothing fetched from the network", not remote, str(remote))

        errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
        check("no console errors", not errors, str(errors))

        if arguments.screenshot:
            screenshot(driver, arguments.screenshot, driver.execute_script("return document.documentElement.scrollHeight"))
            print(f"wrote {arguments.screenshot}")
        if arguments.readme_screenshot:
            # Everything from the errors montage on is removed, so no MNIST image can appear.
            bottom = driver.execute_script("""
                let errors = document.getElementById('errors');
                while (errors.nextElementSibling) errors.nextElementSibling.remove();
                errors.remove();
                return document.getElementById('evaluation').getBoundingClientRect().bottom + window.scrollY + 24;""")
            screenshot(driver, arguments.readme_screenshot, bottom)
            print(f"wrote {arguments.readme_screenshot}")
    finally:
        driver.quit()

    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
