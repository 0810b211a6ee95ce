"""The page of `mnist-softmax serve` in a real browser: headless Chromium driven by selenium draws
digits with mouse events, reads #top-label, races the three costs from the Train view with real
clicks, checks the console has no errors, and saves screenshots ($SERVE_SCREENSHOT_DIR, else the
session's temporary folder)."""
import math
import os
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/ci-serve.sh installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1140",
                     "--force-device-scale-factor=1", "--hide-scrollbars"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def screenshots(workdir):
    directory = os.environ.get("SERVE_SCREENSHOT_DIR", workdir)
    os.makedirs(directory, exist_ok=True)
    return directory


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def draw(driver, strokes):
    """Each stroke: points (x, y) in [-1, 1] across the canvas, drawn as one press-move-release."""
    pad = driver.find_element(By.ID, "pad")
    half = pad.size["width"] / 2 * 0.8
    for stroke in strokes:
        actions = ActionChains(driver, duration=10)
        x, y = (round(stroke[0][0] * half), round(stroke[0][1] * half))
        actions.move_to_element_with_offset(pad, x, y).click_and_hold()
        for px, py in stroke[1:]:
            nx, ny = round(px * half), round(py * half)
            actions.move_by_offset(nx - x, ny - y)
            x, y = nx, ny
        actions.release().perform()


def answer(driver):
    """#top-label once the page has sent its last drawing and shown the answer."""
    wait_until(lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "idle"
               and driver.find_element(By.ID, "top-label").text not in ("", "–"))
    return driver.find_element(By.ID, "top-label").text


SEVEN = [[(-0.5, -0.7), (0.5, -0.7), (0.35, -0.35), (0.2, 0.0), (0.05, 0.35), (-0.1, 0.75)]]
ZERO = [[(0.45 * math.sin(a), -0.7 * math.cos(a)) for a in [2 * math.pi * i / 24 for i in range(25)]]]
ONE = [[(0.05, -0.75), (0.0, 0.0), (-0.05, 0.75)]]


def test_drawn_digits_are_recognised_without_console_errors(server, browser, screenshots):
    browser.set_window_size(1280, 1140)
    browser.get(server.url + "/")
    wait_until(lambda: browser.find_elements(By.ID, "template-9"))
    assert browser.find_element(By.ID, "top-label").text == "–"
    for strokes, label in [(ONE, "1"), (ZERO, "0"), (SEVEN, "7")]:
        browser.find_element(By.ID, "clear").click()
        draw(browser, strokes)
        assert answer(browser) == label
        top = browser.find_elements(By.CSS_SELECTOR, "#templates .template.top")
        assert [cell.get_attribute("id") for cell in top] == [f"template-{label}"]
        assert "logit" in browser.find_element(By.ID, "evidence-terms").text
    browser.save_screenshot(os.path.join(screenshots, "serve-page.png"))
    # A click on another class shows its evidence map instead.
    browser.find_element(By.ID, "template-1").click()
    assert browser.find_element(By.ID, "evidence-title").text == "Class 1"
    assert console_errors(browser) == []


def open_page_and_draw_a_seven(server, browser, width, height):
    browser.set_window_size(width, height)
    browser.get(server.url + "/")
    wait_until(lambda: browser.find_elements(By.ID, "template-9"))
    draw(browser, SEVEN)
    assert answer(browser) == "7"


def test_page_is_usable_at_phone_width(server, browser, screenshots):
    open_page_and_draw_a_seven(server, browser, 390, 844)
    overflow = browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than a 390 px screen"
    browser.save_screenshot(os.path.join(screenshots, "serve-page-phone.png"))
    assert console_errors(browser) == []


def set_field(driver, element_id, value):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)


def test_a_race_from_the_page_trains_live_and_its_model_can_be_used(server, browser, screenshots):
    open_page_and_draw_a_seven(server, browser, 1280, 1140)
    before = browser.find_element(By.ID, "top-prob").text
    # The fields start as train's defaults, from the server.
    wait_until(lambda: browser.find_element(By.ID, "train-epochs").get_attribute("value") == "10")
    assert browser.find_element(By.ID, "train-learning-rate").get_attribute("value") == "0.4"
    # One epoch at η = 0.1 without momentum: the quadratic cost's slowdown shows within it.
    set_field(browser, "train-learning-rate", "0.1")
    set_field(browser, "train-momentum", "0")
    set_field(browser, "train-epochs", "1")
    # Keep each templates picture of the cross-entropy run as it is painted.
    browser.execute_script("""
        window.templateShots = [];
        const paint = window.paintTemplates;
        window.paintTemplates = (canvas, base64) => {
          paint(canvas, base64);
          if (canvas.id === "templates-softmax-ce") window.templateShots.push(canvas.toDataURL());
        };""")
    browser.find_element(By.ID, "train-race").click()
    status = browser.find_element(By.ID, "train-status")
    wait_until(lambda: status.text.startswith("epoch "), timeout=60)
    assert "test accuracy" in status.text and "%" in status.text, status.text
    wait_until(lambda: status.text.startswith("done"), timeout=120)
    assert status.text.startswith("done: epoch 1 of 1") and "mse" in status.text, status.text
    shots = browser.execute_script("return window.templateShots")
    assert len(shots) >= 2 and len(set(shots)) >= 2, f"{len(shots)} frames, {len(set(shots))} distinct templates pictures"
    final = browser.execute_script("""
        const last = (cost) => trainView.runs[cost].points[trainView.runs[cost].points.length - 1];
        return { ce: last("softmax-ce"), mse: last("mse"), points: trainView.runs["mse"].points.length };""")
    # After one epoch the cross-entropy's test error curve ends below the quadratic cost's.
    assert final["ce"]["epoch"] == 1 and final["ce"]["batch"] == 600
    assert 1 - final["ce"]["accuracy"] < 1 - final["mse"]["accuracy"], final
    browser.execute_script("document.getElementById('train').scrollIntoView()")
    browser.find_element(By.ID, "train").screenshot(os.path.join(screenshots, "serve-race.png"))
    # "Use this model": the draw view answers the same drawing with the quadratic cost's model.
    Select(browser.find_element(By.ID, "use-cost")).select_by_value("mse")
    assert browser.find_element(By.ID, "download-model").get_attribute("href").endswith("/api/train/model?loss=mse")
    browser.find_element(By.ID, "use-model").click()
    info = browser.find_element(By.ID, "model-info")
    wait_until(lambda: "cost: mse" in info.text)
    assert "job" in info.text and "mse" in info.text
    wait_until(lambda: browser.find_element(By.ID, "top-prob").text != before)
    assert answer(browser) in "0123456789"
    assert console_errors(browser) == []
