"""In a real browser: JupyterLab on 127.0.0.1 runs a notebook with an explorer and a graph;
Debian's Chromium, driven through chromium-driver and Selenium, moves the slider and
reads the loss the page then shows, and reads the node text of draw_graph's SVG.

Needs ``chromium`` and ``chromium-driver`` (apt) and the ``browser`` extra (selenium,
jupyterlab). Where any of them is missing, or the browser does not start, the test
FAILS with the reason: a teaching tool nobody checked in a browser is not done.
Set PYCNN_SCREENSHOTS=<dir> to keep the screenshots.
"""
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from pycnn.display import fmt

pytestmark = pytest.mark.browser

NOTEBOOK_CELLS = [
    "import pycnn\nfrom pycnn import explorers\nexplorers.cross_entropy(p=0.6)",
    "a = pycnn.tensor([1.0, 2.0], requires_grad=True, name='a')\n"
    "b = pycnn.tensor([3.0, -1.0], name='b')\n"
    "E = (pycnn.sigmoid(a * b) + a).sum()\nE.backward(retain_grads=True)\n"
    "pycnn.draw_graph(E)",
]


def _requirements():
    """What is missing for the browser test, as a sentence, or None."""
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    if missing:
        return (f"{' and '.join(missing)} not installed: apt-get install -y chromium "
                f"chromium-driver")
    for module in ("selenium", "jupyterlab"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed: pip install -e '.[browser]'"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook(path):
    cells = [{"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {},
              "outputs": [], "source": src} for i, src in enumerate(NOTEBOOK_CELLS)]
    nb = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3",
                                                      "language": "python",
                                                      "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))


@pytest.fixture
def lab(tmp_path):
    reason = _requirements()
    if reason:
        pytest.fail(f"browser test cannot run: {reason}")
    root = tmp_path / "root"
    root.mkdir()
    _notebook(root / "explorer.ipynb")
    port, token = _free_port(), "pycnn-browser-test"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--ServerApp.open_browser=False", "--allow-root", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" +
                                (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture
def browser(tmp_path):
    reason = _requirements()
    if reason:
        pytest.fail(f"browser test cannot run: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1800", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")),
                                  options=options)
    except Exception as error:                     # the reason, not a skip
        pytest.fail(f"Chromium did not start through chromedriver: {error}")
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver, name):
    folder = os.environ.get("PYCNN_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        driver.save_screenshot(os.path.join(folder, name))


def _wait(driver, what, predicate, timeout=60):
    from selenium.common.exceptions import WebDriverException
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except WebDriverException as error:       # the page is still changing
            last = error
        time.sleep(0.25)
    _shot(driver, "timeout.png")
    pytest.fail(f"browser: timed out waiting for {what} ({last})")


def _loss_text(driver):
    from selenium.webdriver.common.by import By
    texts = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".pycnn-explorer-text pre")]
    return next((t for t in texts if "E = " in t), "")


def test_explorer_slider_and_graph_svg_in_jupyterlab(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    base, token = lab
    browser.get(f"{base}/lab/tree/explorer.ipynb?token={token}")
    _wait(browser, "the notebook to open", lambda: browser.find_elements(
        By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"))

    def accept_kernel_dialog():
        # a fresh JupyterLab may ask which kernel to start: the notebook's own (python3)
        for button in browser.find_elements(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"):
            button.click()

    def kernel_idle():
        accept_kernel_dialog()
        bar = browser.find_elements(By.CSS_SELECTOR, ".jp-StatusBar-Widget")
        return any("| Idle" in w.text for w in bar)
    _wait(browser, "the kernel to start", kernel_idle, 60)

    def run_all():
        menus = [m for m in browser.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel")
                 if m.text == "Run"]
        if not menus:
            return False
        menus[0].click()
        items = [i for i in browser.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel")
                 if i.text == "Run All Cells"]
        if not items:
            return False
        items[0].click()
        return True
    _wait(browser, "the Run menu", run_all)

    def loss():
        accept_kernel_dialog()
        return _loss_text(browser)
    before = _wait(browser, "the explorer's loss", loss, 60)
    assert f"−ln 0.6 = {fmt(-math.log(0.6))}" in before
    handle = _wait(browser, "the slider handle", lambda: browser.find_elements(
        By.CSS_SELECTOR, ".pycnn-explorer .noUi-handle"))[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
    handle.click()
    handle.send_keys(Keys.ARROW_RIGHT)             # one step: p = 0.61
    expected = f"−ln 0.61 = {fmt(-math.log(0.61))}"
    after = _wait(browser, f"the loss to become {expected}",
                  lambda: expected in _loss_text(browser) and _loss_text(browser))
    assert "0.5108" not in after.splitlines()[1]
    # draw_graph's SVG, drawn by pycnn, as the browser renders it
    texts = _wait(browser, "the graph's SVG", lambda: [
        t.text for t in browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea svg text")
        if t.text])
    for line in ("a (parameter)", "b (constant)", "t0 = sum", "value [1, 2]"):
        assert line in texts, f"{line!r} not among the SVG's node texts {texts}"
    nodes = browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea svg g.pycnn-node rect")
    assert len(nodes) == 6 and all(n.size["width"] > 40 for n in nodes)
    _shot(browser, "jupyterlab.png")
