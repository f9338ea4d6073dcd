"""End-to-end tests of the playground in headless Chromium (Debian's package) driven by Playwright.

The server is started the way a user starts it, ``python -m chainrule playground --port N``, in a
subprocess. Skipped when /usr/bin/chromium or the playwright package is missing. A screenshot of
the trained spiral is written to the pytest temporary directory (and to
``$CHAINRULE_ARTIFACT_DIR`` when that is set).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("uvicorn")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SPIRAL = "/?dataset=spiral&layers=8,8&act=tanh,tanh&lr=0.03&batch=10&seed=1&noise=0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "chainrule", "playground", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {proc.stdout.read().decode()}")
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("the playground server did not start within 30 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, server):
    pages = []

    def opener(path="/", width=1400, height=1000):
        page = browser.new_page(viewport={"width": width, "height": height})
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        page.goto(server + path)
        page.wait_for_selector("body[data-ready='1']", timeout=15000)
        pages.append(page)
        return page

    yield opener
    for page in pages:
        assert page.errors == [], page.errors  # no JavaScript exception on any page
        page.close()


def state(page, key=None):
    s = page.evaluate("() => window.playground.state")
    return s if key is None else s[key]


def canvas_pixels(page, selector="#output-canvas"):
    return page.evaluate(
        """(sel) => { const c = document.querySelector(sel);
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }""", selector)


def wait_for(page, condition, timeout=15000):
    page.wait_for_function(condition, timeout=timeout)


# The first edge of ``layer`` whose middle is under the pointer (nothing drawn over it) and whose
# box is not flat: Playwright hovers and clicks the middle of an element's box, which is the
# middle of the edge's S-curve, and takes a flat box (a horizontal edge) for an invisible element.
_FIND_EDGE = """(layer) => { const hits = [...document.querySelectorAll('#edges path.hit')];
  for (const h of hits) {
    if (Number(h.dataset.layer) !== layer) continue;
    const r = h.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;
    if (document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === h) return hits.indexOf(h);
  }
  return -1; }"""


def reachable_edge(page, layer=1):
    """(locator, (row, col)) of an edge of ``layer`` that the pointer can reach without force."""
    index = page.evaluate(_FIND_EDGE, layer)
    assert index >= 0, f"no edge of layer {layer} can be reached by the pointer"
    edge = page.locator("path.hit").nth(index)
    return edge, (int(edge.get_attribute("data-row")), int(edge.get_attribute("data-col")))


def test_spiral_trains_loss_falls_and_heatmap_changes(open_page, tmp_path_factory):
    page = open_page(SPIRAL)
    start = state(page)
    assert start["config"]["dataset"] == "spiral" and start["epoch"] == 0
    wait_for(page, "() => window.playground.points !== null")
    before = canvas_pixels(page)
    events, started = page.evaluate("() => window.playground.events"), time.time()
    page.click("#play")
    wait_for(page, "() => window.playground.state.epoch >= 400")
    rate = (page.evaluate("() => window.playground.events") - events) / (time.time() - started)
    assert rate >= 3, f"only {rate:.1f} updates per second reached the page"
    print(f"spiral: {state(page, 'epoch')} epochs, {rate:.1f} streamed updates per second")
    page.click("#play")  # pause
    wait_for(page, "() => window.playground.state.status === 'paused'")
    after = state(page)
    print(f"spiral: test loss {start['last']['test_loss']:.3f} at epoch 0 -> {after['last']['test_loss']:.3f} at epoch {after['epoch']}")
    assert after["last"]["test_loss"] < 0.85 * start["last"]["test_loss"]
    shown = float(page.inner_text("#test-loss"))
    assert shown == pytest.approx(after["last"]["test_loss"], abs=1e-3)
    assert int(page.inner_text("#epoch").replace(",", "")) == after["epoch"]
    pixels = canvas_pixels(page)
    changed = sum(abs(a - b) > 24 for a, b in zip(before, pixels)) / len(pixels)
    assert changed > 0.05, f"only {changed:.1%} of the heatmap's channel values changed"
    chart = canvas_pixels(page, "#loss-chart")
    assert any(chart[3::4])  # the loss chart has been drawn
    out = tmp_path_factory.mktemp("playground") / "playground_spiral.png"
    page.click("#show-test")
    page.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 20_000
    if os.environ.get("CHAINRULE_ARTIFACT_DIR"):
        target = Path(os.environ["CHAINRULE_ARTIFACT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, target / out.name)


def test_change_activation_and_step_through_backprop(open_page):
    page = open_page(SPIRAL)
    first_neuron = canvas_pixels(page, "#neuron-1-0 canvas")
    page.select_option(".act-select[data-layer='0']", "relu")
    wait_for(page, "() => window.playground.state.config.act[0] === 'relu'")
    assert "act=relu%2Ctanh" in page.url or "act=relu,tanh" in page.url
    assert page.input_value(".act-select[data-layer='0']") == "relu"
    assert state(page, "network")["layers"][0]["act"] == "relu"
    assert canvas_pixels(page, "#neuron-1-0 canvas") != first_neuron  # a new network, new pictures
    page.click("#step")
    wait_for(page, "() => window.playground.state.epoch === 1")

    # click on training point 0 of the output map
    s = state(page)
    x = page.evaluate("() => window.playground.points.train.x[0]")
    x0, x1, y0, y1 = s["extent"]
    box = page.locator("#output-canvas").bounding_box()
    page.mouse.click(box["x"] + (x[0] - x0) / (x1 - x0) * box["width"], box["y"] + (1 - (x[1] - y0) / (y1 - y0)) * box["height"])
    wait_for(page, "() => document.querySelector('#explain-body').dataset.stage === 'Forward'")
    trace = page.evaluate("() => window.playground.trace")
    assert trace["point"]["index"] == 0 and trace["point"]["split"] == "train"
    W = [layer["W"] for layer in state(page, "network")["layers"]]
    for shown, layer in zip(W, trace["layers"]):
        assert np.allclose(shown, layer["W"], atol=1e-4)  # the trace is of the network on the page
    body = page.inner_text("#explain-body")
    assert trace["schema"] == "chainrule.explain/1"  # chainrule.inspect.explain's own trace
    assert "Z[1] = A[0] W[1]ᵀ + b[1]" in body and "A[0]" in body and "max(0, z)" in body
    label = int(round(trace["y"][0][0]))  # a 0/1 class label reads as one, not as 0.00000
    assert f"target as the loss sees it: Y = [{label}]" in page.inner_text("#explain")
    expected = {"Loss": "L =", "Backward": "dZ[1] = dA[1] * ReLU'(Z[1])", "Gradients": "dW[1] = dZ[1]ᵀ A[0]",
                "Update": "W[1] ← W[1] − α dW[1]"}
    for stage, text in expected.items():
        page.click("#stage-next")
        wait_for(page, f"() => document.querySelector('#explain-body').dataset.stage === '{stage}'")
        assert text in page.inner_text("#explain-body")
    assert page.is_disabled("#stage-next")
    if os.environ.get("CHAINRULE_ARTIFACT_DIR"):
        target = Path(os.environ["CHAINRULE_ARTIFACT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        page.click("#stage-prev")
        page.click("#stage-prev")
        page.locator("#explain-body").screenshot(path=str(target / "playground_backprop.png"))


def test_url_state_reproduces_the_network_and_tabs_are_isolated(open_page):
    url = "/?dataset=moons&layers=5,3&act=xtanh,sigmoid&features=x1,x2,x1x2&loss=hinge&opt=momentum&lr=0.1&seed=77"
    a = open_page(url)
    net_a, config_a = state(a, "network"), state(a, "config")
    assert config_a["act"] == ["xtanh", "sigmoid"] and config_a["loss"] == "hinge" and config_a["seed"] == 77
    assert a.input_value("#loss") == "hinge" and a.input_value("#opt") == "momentum"
    b = open_page("/" + a.url.split("/", 3)[3])  # the page's own (normalised) address
    assert state(b, "id") != state(a, "id")
    assert state(b, "network") == net_a and state(b, "config") == config_a
    assert a.evaluate("() => window.playground.points") == b.evaluate("() => window.playground.points")
    b.click("#step")
    wait_for(b, "() => window.playground.state.epoch === 1")
    a.wait_for_timeout(300)
    assert state(a, "epoch") == 0 and state(a, "network") == net_a


def test_bad_input_is_shown_on_the_page(open_page, tmp_path):
    page = open_page("/?layers=9")
    assert "between 1 and 8" in page.inner_text("#message") and page.is_visible("#message")
    assert state(page, "config")["layers"] == [4, 2]  # fell back to the defaults
    page.fill("#batch", "0")
    page.press("#batch", "Enter")
    page.locator("#batch").blur()
    wait_for(page, "() => document.querySelector('#message').textContent.includes('batch must be between 1 and 1000')")
    assert page.input_value("#batch") == "10"  # the control shows the setting in force again
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"x1,x2,label\n1,2\n3,4\n")
    page.set_input_files("#csv-file", str(bad))
    wait_for(page, "() => document.querySelector('#message').textContent.includes('Upload refused')")
    good = tmp_path / "good.csv"
    good.write_text("a,b,c\n" + "\n".join(f"{i % 7},{(i * 3) % 5},{int(i % 7 > 3)}" for i in range(40)))
    page.set_input_files("#csv-file", str(good))
    wait_for(page, "() => window.playground.state.config.dataset === 'csv'")
    # the message follows the new state: wait for it rather than read it at once
    wait_for(page, "() => document.querySelector('#message').textContent.includes('Loaded good.csv: 40 rows')")


def test_names_in_the_address_that_are_not_settings_are_named(open_page):
    page = open_page("/?dataset=circle&activaton=relu&lr=0.1")
    text = page.inner_text("#message")
    assert page.is_visible("#message") and "activaton" in text and "ignored" in text
    assert "act" in text.split("Settings:")[1]  # the real names are listed
    assert state(page, "config")["dataset"] == "circle" and state(page, "config")["lr"] == 0.1


def _step_until_diverged(page, steps: int = 30):
    for _ in range(steps):
        if state(page, "status") == "diverged":
            break
        page.click("#step")
        page.wait_for_timeout(50)
    wait_for(page, "() => window.playground.state.status === 'diverged'")


def test_divergence_shows_and_reset_recovers(open_page):
    page = open_page("/?dataset=circle&layers=8,8&act=relu,relu&loss=mse&lr=10")
    _step_until_diverged(page)
    assert page.inner_text("#status") == "diverged"
    assert "diverged at epoch" in page.inner_text("#message")
    assert page.is_disabled("#play") and page.is_disabled("#step")
    look = "(sel) => { const s = getComputedStyle(document.querySelector(sel)); return [s.backgroundColor, s.borderStyle]; }"
    disabled_look = page.evaluate(look, "#step"), page.evaluate(look, "#play")
    # a lower learning rate continues from the kept weights, as the message says
    kept = state(page)
    assert "lower the learning rate" in page.inner_text("#message")
    page.select_option("#lr", "0.01")
    wait_for(page, "() => window.playground.state.status === 'paused'")
    assert not page.is_visible("#message") and not page.is_disabled("#play")
    # disabled buttons look disabled: not as they look when they work
    assert page.evaluate(look, "#step") != disabled_look[0] and page.evaluate(look, "#play") != disabled_look[1]
    assert state(page, "network") == kept["network"] and state(page, "epoch") == kept["epoch"]
    page.click("#step")
    wait_for(page, f"() => window.playground.state.epoch === {kept['epoch'] + 1}")
    page.select_option("#lr", "10")
    _step_until_diverged(page)
    page.click("#reset")
    wait_for(page, "() => window.playground.state.status === 'paused' && window.playground.state.epoch === 0")
    assert page.inner_text("#status") == "paused" and not page.is_disabled("#play")


def test_hover_reads_and_click_edits_a_weight(open_page):
    page = open_page("/?layers=3&act=tanh")
    edge, (row, col) = reachable_edge(page)
    edge.hover()
    wait_for(page, "() => document.querySelector('#weight-panel').textContent.includes('W[1]')")
    w = state(page, "network")["layers"][0]["W"][row][col]
    assert f"{w:.4f}" in page.inner_text("#weight-panel")
    edge.click()
    page.fill("#weight-input", "2.5")
    page.press("#weight-input", "Enter")
    wait_for(page, f"() => window.playground.state.network.layers[0].W[{row}][{col}] === 2.5")
    page.click("#add-layer")
    wait_for(page, "() => window.playground.state.config.layers.length === 2")
    page.click("#neuron-1-0")  # a neuron: edit its bias
    assert "b[1]" in page.inner_text("#weight-panel")


def test_a_weight_edit_updates_the_readout_and_an_empty_field_is_refused(open_page):
    page = open_page("/?layers=3&act=tanh")
    for k in range(1, 6):
        page.click("#step")
        wait_for(page, f"() => window.playground.state.epoch === {k}")
    shown = page.inner_text("#test-loss"), page.inner_text("#test-metric")
    edge, (row, col) = reachable_edge(page)
    w = state(page, "network")["layers"][0]["W"][row][col]
    edge.click()
    page.fill("#weight-input", "")
    page.press("#weight-input", "Enter")
    wait_for(page, "() => document.querySelector('#message').textContent.includes('enter a number')")
    assert state(page, "network")["layers"][0]["W"][row][col] == w  # nothing was sent (not 0)
    assert page.is_visible("#weight-input")  # still editing
    page.press("#weight-input", "Escape")
    page.click("#output-0")  # the output's bias
    assert "b[2]1 bias of output 1:" in page.inner_text("#weight-panel")  # numbered from 1, as W[l] and neurons are
    page.fill("#weight-input", "60")
    page.press("#weight-input", "Enter")
    wait_for(page, "() => window.playground.state.network.layers[1].b[0] === 60")
    last = state(page, "last")
    assert (page.inner_text("#test-loss"), page.inner_text("#test-metric")) != shown
    assert float(page.inner_text("#test-metric")) == pytest.approx(last["test_metric"], abs=1e-3)
    labels = page.evaluate("() => window.playground.points.test.y")
    assert last["test_metric"] == pytest.approx(np.mean(labels))  # a bias of 60: everything is class 1


def test_switching_datasets_keeps_a_loss_that_fits(open_page):
    page = open_page("/?dataset=gauss&classes=3&loss=cross_entropy")
    page.click("#datasets button[data-dataset='sine']")
    wait_for(page, "() => window.playground.state.config.dataset === 'sine'")
    assert state(page, "config")["loss"] == "mse"
    page.click("#datasets button[data-dataset='gauss']")
    wait_for(page, "() => window.playground.state.config.dataset === 'gauss'")
    assert state(page, "config")["loss"] == "cross_entropy" and state(page, "task") == "multiclass"
    assert not page.is_visible("#message")
    page.click("#datasets button[data-dataset='circle']")
    wait_for(page, "() => window.playground.state.config.dataset === 'circle'")
    assert state(page, "task") == "binary" and not page.is_visible("#message")


def test_short_links_take_the_defaults_that_fit(open_page):
    for path, loss, features in [("/?dataset=sine", "mse", ["x1"]), ("/?dataset=spiral&classes=3", "cross_entropy", ["x1", "x2"])]:
        page = open_page(path)
        config = state(page, "config")
        assert not page.is_visible("#message"), page.inner_text("#message")
        assert config["dataset"] == path.split("=")[1].split("&")[0]
        assert config["loss"] == loss and config["features"] == features


def test_the_csv_is_used_again_as_it_was_uploaded(open_page, tmp_path):
    page = open_page("/")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    csv = tmp_path / "targets.csv"
    csv.write_text("x1,x2,y\n" + "\n".join(f"{a:.4f},{b:.4f},{np.sin(a) + 0.3 * b:.4f}" for a, b in X))
    page.select_option("#problem", "regression")
    page.set_input_files("#csv-file", str(csv))
    wait_for(page, "() => window.playground.state.config.dataset === 'csv'")
    assert state(page, "task") == "regression"
    page.click("#datasets button[data-dataset='circle']")
    wait_for(page, "() => window.playground.state.config.dataset === 'circle'")
    page.click("#datasets button[data-dataset='csv']")
    wait_for(page, "() => window.playground.state.config.dataset === 'csv'")
    assert state(page, "task") == "regression" and state(page, "config")["loss"] == "mse"
    assert page.get_attribute("#message", "data-kind") != "error" or not page.is_visible("#message")


@pytest.mark.parametrize("width, height", [(1280, 800), (800, 900)])
def test_the_page_fits_the_window(open_page, width, height, tmp_path):
    page = open_page("/?dataset=spiral&layers=8,8,6&act=tanh,tanh,tanh&features=x1,x2,sinx1,sinx2&seed=3", width, height)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # no sideways scrolling
    right = "(sel) => document.querySelector(sel).getBoundingClientRect().right"
    for card in ("section.data-col", "section.net-col", "section.out-col", "#explain"):
        assert page.evaluate(right, card) <= width, card
    for inner in ("#test-loss", "#loss-chart", "#output-canvas"):
        assert page.evaluate(right, inner) <= page.evaluate(right, "section.out-col"), inner
    assert page.evaluate(right, "#regenerate") <= page.evaluate(right, "section.data-col")
    shot = tmp_path / f"playground_{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("CHAINRULE_ARTIFACT_DIR"):
        target = Path(os.environ["CHAINRULE_ARTIFACT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)


def _step_then_explain(page, index: str) -> None:
    """One training step, then "Explain this point" for training point ``index`` (as typed)."""
    page.click("#step")
    wait_for(page, "() => window.playground.state.epoch === 1")
    page.fill("#explain-index", index)
    page.click("#explain-btn")


def test_empty_or_unreadable_numbers_are_named_not_sent(open_page):
    page = open_page("/?layers=3&act=tanh")
    _step_then_explain(page, "")  # "Explain this point" with an empty index: a message, not point #0
    wait_for(page, "() => document.querySelector('#message').textContent.includes('enter the number of a point')")
    assert page.evaluate("() => window.playground.trace") in (None, {})  # nothing was explained
    # a seed the browser cannot read as a number: the field is named, "got ''" is not shown
    seed = state(page, "config")["seed"]
    page.fill("#seed", "9" * 400)
    page.press("#seed", "Enter")
    page.locator("#seed").blur()
    wait_for(page, "() => document.querySelector('#message').textContent.includes('Seed: enter a whole number')")
    assert "got ''" not in page.inner_text("#message") and state(page, "config")["seed"] == seed
    # a weight editor open when the network is rebuilt closes (its weight may be gone)
    reachable_edge(page)[0].click()
    assert page.is_visible("#weight-input")
    page.click("#add-layer")
    wait_for(page, "() => window.playground.state.config.layers.length === 2")
    wait_for(page, "() => !document.querySelector('#weight-input')")


def test_a_wide_network_in_a_narrow_window_scrolls_instead_of_squeezing(open_page):
    page = open_page("/?dataset=spiral&layers=8,8,8,8,8,8&act=relu,relu,relu,relu,relu,relu"
                     "&features=x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2", 400, 900)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 400  # the page itself does not scroll
    columns = page.evaluate("() => [...document.querySelectorAll('#columns .column')]"
                            ".map(c => { const r = c.getBoundingClientRect(); return [r.left, r.right]; })")
    assert all(a[1] <= b[0] for a, b in zip(columns, columns[1:]))  # no column overlaps the next
    widths = page.evaluate("() => { const n = document.getElementById('network'); return [n.scrollWidth, n.clientWidth]; }")
    assert widths[0] > widths[1]  # the diagram scrolls sideways within its card
    # every feature's label is inside the diagram, not clipped at its left edge
    left = page.evaluate("() => document.getElementById('network').getBoundingClientRect().left")
    tags = page.evaluate("() => [...document.querySelectorAll('.feature-col .tag')].map(t => t.getBoundingClientRect().left)")
    assert tags and min(tags) >= left


def test_the_loss_stage_shows_the_penalised_loss_with_l2(open_page):
    page = open_page("/?dataset=moons&layers=4&act=tanh&reg=l2&rate=0.1&seed=3")
    _step_then_explain(page, "0")
    wait_for(page, "() => document.querySelector('#explain-body').dataset.stage === 'Forward'")
    trace = page.evaluate("() => window.playground.trace")
    assert trace["l2"] == 0.1 and trace["loss"]["penalty"] > 0
    assert trace["loss"]["regularised_value"] == pytest.approx(trace["loss"]["value"] + trace["loss"]["penalty"])
    page.click("#stage-next")
    wait_for(page, "() => document.querySelector('#explain-body').dataset.stage === 'Loss'")
    assert "L_reg = L + (0.1/2) Σ‖W‖² = " in page.inner_text("#explain-body")


def test_a_trace_is_cleared_when_the_data_or_settings_change(open_page):
    """The panel must not keep showing a step of a network or data the page no longer has."""
    page = open_page("/?dataset=gauss&classes=4&layers=4&act=tanh&seed=2")
    _step_then_explain(page, "0")
    wait_for(page, "() => document.querySelector('#explain-body').dataset.stage === 'Forward'")
    page.click("#datasets button[data-dataset='circle']")
    wait_for(page, "() => window.playground.state.config.dataset === 'circle'")
    wait_for(page, "() => window.playground.trace === null")
    assert "explain it again" in page.inner_text("#explain-body") or "pick a point" in page.inner_text("#explain-body")
    assert page.is_disabled("#stage-next") and all(b.is_disabled() for b in page.locator("#stages button").all())
    # the greyed Classes control shows the classes the data has, not the gauss setting
    assert page.is_disabled("#classes") and page.inner_text("#classes-value") == "2"


def test_enter_in_the_point_field_explains_the_point(open_page):
    page = open_page("/?dataset=moons&layers=3&act=tanh&seed=4")
    page.click("#step")
    wait_for(page, "() => window.playground.state.epoch === 1")
    page.fill("#explain-index", "2")
    page.press("#explain-index", "Enter")
    wait_for(page, "() => document.querySelector('#explain-body').dataset.stage === 'Forward'")
    assert page.evaluate("() => window.playground.trace.point.index") == 2


def test_the_regularisation_rate_is_greyed_out_without_l1_or_l2(open_page):
    page = open_page("/?dataset=moons&layers=3&act=tanh&reg=none")
    assert page.is_disabled("#rate")
    page.select_option("#reg", "l2")
    wait_for(page, "() => window.playground.state.config.reg === 'l2'")
    assert not page.is_disabled("#rate")


# -- the audit's findings ------------------------------------------------------------------------------
_REACHABLE = """() => { let ok = 0, all = 0;
  for (const h of document.querySelectorAll('#edges path.hit')) {
    const L = h.getTotalLength(), m = h.getScreenCTM();
    for (let f = 0.1; f < 0.95; f += 0.1) {
      const p = h.getPointAtLength(L * f), x = p.x * m.a + m.e, y = p.y * m.d + m.f;
      const el = document.elementFromPoint(x, y);
      all += 1; if (el && el.classList.contains('hit')) ok += 1;
    }
  }
  return ok / all; }"""


def test_edges_can_be_reached_everywhere_along_their_length(open_page):
    page = open_page("/?dataset=xor&layers=8,8,8,8,8,8&act=relu,tanh,tanh,tanh,tanh,xtanh", 1280, 800)
    page.wait_for_timeout(300)
    reachable = page.evaluate(_REACHABLE)
    assert reachable > 0.95, f"only {reachable:.0%} of the edges' length takes the pointer"
    gap = page.evaluate("() => document.querySelector('.hidden-col').getBoundingClientRect().left"
                        " - document.querySelector('.feature-col').getBoundingClientRect().right")
    assert gap >= 35, f"features to layer 1: {gap:.0f} px"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    # the column heads' controls still work
    page.click("#columns .hidden-col button[title^='Remove a neuron']")
    wait_for(page, "() => window.playground.state.config.layers[0] === 7")


def test_the_problem_choice_after_a_refusal_is_said_and_the_next_upload_read_as_shown(open_page, tmp_path):
    page = open_page("/")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 2))
    reg = tmp_path / "reg.csv"
    reg.write_text("x1,x2,y\n" + "\n".join(f"{a:.4f},{b:.4f},{a + 0.5 * b:.4f}" for a, b in X))
    labels = tmp_path / "labels.csv"
    labels.write_text("x1,x2,y\n" + "\n".join(f"{a:.4f},{b:.4f},{int(a > 0)}" for a, b in X))
    page.select_option("#problem", "regression")
    page.set_input_files("#csv-file", str(reg))
    wait_for(page, "() => window.playground.state.task === 'regression'")
    page.select_option("#problem", "classification")  # refused: the targets are not labels
    wait_for(page, "() => document.querySelector('#message').dataset.kind === 'error'")
    message = page.inner_text("#message")
    assert "non-integer" in message and "the selector is back at regression" in message
    assert page.input_value("#problem") == "regression"
    assert page.inner_text("#classes-value") == "–"  # the refusal re-rendered the controls from the server's state
    page.set_input_files("#csv-file", str(labels))
    wait_for(page, "() => document.querySelector('#message').textContent.includes('Loaded labels.csv')")
    message = page.inner_text("#message")
    assert state(page, "task") == "regression" and "read as regression" in message
    assert "looks like class labels" in message and "choose classification" in message
    page.select_option("#problem", "classification")
    wait_for(page, "() => window.playground.state.task === 'binary'")
    page.set_input_files("#csv-file", str(labels))
    wait_for(page, "() => document.querySelector('#message').textContent.includes('read as classification (2 classes)')")


def test_controls_show_the_servers_values_after_a_refusal(open_page, tmp_path):
    page = open_page("/")
    for field, kept in (("#batch", "10"), ("#seed", "0")):
        page.fill(field, "")
        page.press(field, "Enter")
        page.locator(field).blur()
        wait_for(page, f"() => document.querySelector('#message').textContent.includes('it stays {kept}')")
        assert page.input_value(field) == kept
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 2))
    rows = tmp_path / "rows300.csv"
    rows.write_text("\n".join(f"{a:.4f},{b:.4f},{int(a * b > 0)}" for a, b in X))
    page.set_input_files("#csv-file", str(rows))
    wait_for(page, "() => window.playground.state.config.dataset === 'csv'")
    assert page.inner_text("#points-value") == "300" and page.is_disabled("#points")
    assert page.inner_text("#noise-value") == "–"
    page.select_option("#loss", "cross_entropy")  # fits; then a refused one
    wait_for(page, "() => window.playground.state.config.loss === 'cross_entropy'")
    page.fill("#batch", "0")
    page.press("#batch", "Enter")
    page.locator("#batch").blur()
    wait_for(page, "() => document.querySelector('#message').textContent.includes('batch must be between')")
    assert page.inner_text("#points-value") == "300" and page.inner_text("#classes-value") == "2"


def test_a_trace_says_its_epoch_and_is_marked_out_of_date(open_page):
    page = open_page("/?dataset=moons&layers=3&act=tanh&seed=4")
    page.click("#step")
    wait_for(page, "() => window.playground.state.epoch === 1")
    page.fill("#explain-index", "2")
    page.click("#explain-btn")
    wait_for(page, "() => document.querySelector('#explain-body').dataset.stage === 'Forward'")
    note = page.inner_text("#explain-at")
    assert "train point 2" in note and "at epoch 1" in note and "as it is now" in note
    assert "stale" not in page.get_attribute("#explain-at", "class")
    # training, a weight edit and a reset each make it out of date
    page.click("#step")
    wait_for(page, "() => document.querySelector('#explain-at').textContent.includes('out of date')")
    assert "at epoch 1" in page.inner_text("#explain-at") and "epoch 2 now" in page.inner_text("#explain-at")
    assert "stale" in page.get_attribute("#explain-body", "class")
    page.click("#explain-btn")
    wait_for(page, "() => document.querySelector('#explain-at').textContent.includes('as it is now')")
    assert "at epoch 2" in page.inner_text("#explain-at")
    page.click("#output-0")
    page.fill("#weight-input", "1.5")
    page.press("#weight-input", "Enter")
    wait_for(page, "() => document.querySelector('#explain-at').textContent.includes('out of date')")
    assert "edited or reset" in page.inner_text("#explain-at")
    page.click("#explain-btn")
    wait_for(page, "() => document.querySelector('#explain-at').textContent.includes('as it is now')")
    page.click("#reset")
    wait_for(page, "() => document.querySelector('#explain-at').textContent.includes('epoch 0 now')")


def test_the_weight_readout_follows_the_network(open_page):
    page = open_page("/?layers=3,2&act=tanh,tanh")
    edge, (row, col) = reachable_edge(page)
    edge.hover()
    wait_for(page, "() => document.querySelector('#weight-panel').textContent.includes('W[1]')")
    page.mouse.move(5, 5)  # away: the readout stays, and must stay true
    for k in range(1, 4):
        page.click("#step")
        wait_for(page, f"() => window.playground.state.epoch === {k}")
    w = state(page, "network")["layers"][0]["W"][row][col]
    wait_for(page, f"() => document.querySelector('#weight-panel').textContent.includes('= {w:.4f}')")
    page.hover("#neuron-2-1")  # the bias of hidden layer 2, which is about to go
    wait_for(page, "() => document.querySelector('#weight-panel').textContent.includes('b[2]')")
    page.mouse.move(5, 5)
    page.click("#remove-layer")
    wait_for(page, "() => window.playground.state.config.layers.length === 1")
    panel = page.inner_text("#weight-panel")
    assert "b[2]" not in panel and "hidden layer 2" not in panel and panel.startswith("Hover a line")


def test_the_keyboard_reaches_upload_features_neurons_and_edges(open_page, tmp_path):
    page = open_page("/?layers=3&act=tanh")
    # labels and live regions
    for control in ("problem", "explain-split", "explain-index"):
        assert page.evaluate(f"() => document.getElementById('{control}').labels.length > 0 || "
                             f"!!document.getElementById('{control}').getAttribute('aria-label')"), control
    assert page.get_attribute("#status", "aria-live") == "polite" and page.get_attribute("#epoch", "aria-live") == "polite"
    # once a CSV is loaded, Tab reaches the upload button and Enter opens the file chooser
    good = tmp_path / "k.csv"
    good.write_text("\n".join(f"{i % 7},{(i * 3) % 5},{int(i % 7 > 3)}" for i in range(40)))
    page.set_input_files("#csv-file", str(good))
    wait_for(page, "() => window.playground.state.config.dataset === 'csv'")
    page.focus("#datasets button[data-dataset='csv']")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "upload-btn"
    # the file input's click (which opens the chooser) is counted and its dialog cancelled:
    # headless Chromium does not reliably report a second native file chooser in one browser
    page.evaluate("""() => { window.fileClicks = 0; document.getElementById('csv-file').addEventListener('click',
        (ev) => { window.fileClicks += 1; ev.preventDefault(); }); }""")
    page.keyboard.press("Enter")
    page.keyboard.press(" ")
    wait_for(page, "() => window.fileClicks === 2")
    # a feature toggles with Enter and Space
    page.focus("#feature-x1sq")
    assert page.get_attribute("#feature-x1sq", "role") == "button"
    assert page.get_attribute("#feature-x1sq", "aria-pressed") == "false"
    page.keyboard.press("Enter")
    wait_for(page, "() => window.playground.state.config.features.includes('x1sq')")
    page.focus("#feature-x1sq")
    page.keyboard.press(" ")
    wait_for(page, "() => !window.playground.state.config.features.includes('x1sq')")
    # a neuron shows its bias on focus and opens the editor with Enter
    page.focus("#neuron-1-0")
    wait_for(page, "() => document.querySelector('#weight-panel').textContent.includes('b[1]')")
    page.keyboard.press("Enter")
    assert page.is_visible("#weight-input")
    page.press("#weight-input", "Escape")
    # an edge too
    edge = page.locator("path.hit").first
    assert edge.get_attribute("tabindex") == "0" and edge.get_attribute("role") == "button"
    assert "W[1]" in edge.get_attribute("aria-label")
    edge.focus()
    wait_for(page, "() => document.querySelector('#weight-panel').textContent.includes('W[1]')")
    page.keyboard.press("Enter")
    page.fill("#weight-input", "0.75")
    page.press("#weight-input", "Enter")
    wait_for(page, "() => window.playground.state.network.layers[0].W[0][0] === 0.75")


def test_the_legend_says_what_the_marks_are(open_page):
    page = open_page("/?dataset=sine")
    assert "test" not in page.inner_text("#output-legend")
    page.click("#show-test")
    legend = page.inner_text("#output-legend")
    assert "training data" in legend and "test data" in legend and page.locator("#output-legend .dot.ring").count() == 1
    page = open_page("/?dataset=spiral&classes=3")
    assert "paler = less sure" in page.inner_text("#output-legend")
    assert "white ring: training points" in page.inner_text("#output-legend")
    page.click("#discretize")
    assert "paler" not in page.inner_text("#output-legend")
    page.click("#show-test")
    assert "dark ring: test" in page.inner_text("#output-legend")


# -- the diagram is one Tab stop for the edges and one for the neurons (roving tabindex) -----------------
_FOCUSED = """() => { const a = document.activeElement;
  if (a.matches('path.hit')) return ['W', +a.dataset.layer, +a.dataset.row, +a.dataset.col];
  return [a.matches('#columns .node:not(.feature)') ? 'b' : a.tagName, a.id]; }"""
_STOPS = """(sel) => [...document.querySelectorAll(sel)].filter(e => e.getAttribute('tabindex') === '0')
  .map(e => e.id || [+e.dataset.layer, +e.dataset.row, +e.dataset.col])"""
EDGE, NEURON = "#edges path.hit", "#columns .node:not(.feature)"


def focused(page):
    return tuple(page.evaluate(_FOCUSED))


def tab_stops(page, selector):
    """The elements of ``selector`` that Tab stops on (tabindex 0), as edge (layer, row, col) or id."""
    return [tuple(s) if isinstance(s, list) else s for s in page.evaluate(_STOPS, selector)]


def test_the_edges_are_one_tab_stop(open_page):
    page = open_page("/")  # the default network: 2 features, 4 and 2 hidden neurons, 1 output (18 edges)
    assert page.locator(EDGE).count() == 18
    assert tab_stops(page, EDGE) == [(1, 0, 0)] and tab_stops(page, NEURON) == ["neuron-1-0"]
    assert page.get_attribute("#edges", "role") == "group" and "arrow keys" in page.get_attribute("#edges", "aria-label")
    page.locator(EDGE).first.focus()
    page.keyboard.press("Tab")
    assert focused(page)[0] != "W"  # one Tab leaves the edges
    # from the first edge to the next control after the diagram: past the features and the
    # layers' +/−/activation controls, and one neuron on the way
    page.locator(EDGE).first.focus()
    visited = []
    while focused(page) != ("INPUT", "show-test"):
        page.keyboard.press("Tab")
        visited.append(focused(page))
        assert len(visited) < 40, visited
    print(f"{len(visited)} Tab presses from the first edge to the next control after the diagram")
    assert not any(f[0] == "W" for f in visited) and sum(f[0] == "b" for f in visited) == 1
    features = page.locator("#columns .node.feature").count()
    heads = page.locator("#columns .col-head button:enabled, #columns .col-head select").count()
    assert len(visited) == features + heads + 2  # + the neurons' stop + the control after the diagram
    # Shift+Tab comes back to the edge last focused
    page.locator(EDGE).first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == ("W", 1, 0, 1) and tab_stops(page, EDGE) == [(1, 0, 1)]


def test_arrow_keys_move_between_edges_and_between_neurons(open_page):
    page = open_page("/?layers=3,2&act=tanh,tanh")  # W[1] 3×2, W[2] 2×3, W[3] 1×2
    net = state(page, "network")
    page.locator(EDGE).first.focus()
    # Up/Down: the layer's edges row by row; Right/Left along the path (Right then Left comes back);
    # at a border the focus stays; Home/End: the first and the last edge
    for key, where in [("ArrowUp", (1, 0, 0)), ("ArrowDown", (1, 0, 1)), ("ArrowDown", (1, 1, 0)),
                       ("ArrowUp", (1, 0, 1)), ("ArrowRight", (2, 1, 0)), ("ArrowRight", (3, 0, 1)),
                       ("ArrowRight", (3, 0, 1)), ("ArrowLeft", (2, 1, 0)), ("ArrowLeft", (1, 0, 1)),
                       ("ArrowLeft", (1, 0, 1)), ("End", (3, 0, 1)), ("ArrowDown", (3, 0, 1)),
                       ("Home", (1, 0, 0)), ("ArrowDown", (1, 0, 1)), ("ArrowDown", (1, 1, 0)),
                       ("ArrowDown", (1, 1, 1)), ("ArrowDown", (1, 2, 0)), ("ArrowDown", (1, 2, 1)),
                       ("ArrowDown", (1, 2, 1))]:
        page.keyboard.press(key)
        layer, row, col = where
        assert focused(page) == ("W", *where), key
        assert tab_stops(page, EDGE) == [where]  # the focused edge is the group's Tab stop
        w = net["layers"][layer - 1]["W"][row][col]
        assert f"W[{layer}]{row + 1},{col + 1} " in page.inner_text("#weight-panel")  # the readout follows
        assert f"= {w:.4f}" in page.inner_text("#weight-panel")
    assert page.evaluate("() => window.scrollY") == 0  # the arrows did not scroll the page
    # Enter on an edge reached with the arrows edits that edge
    for key in ("End", "ArrowLeft"):
        page.keyboard.press(key)
    assert focused(page) == ("W", 2, 1, 0)
    page.keyboard.press("Enter")
    assert "W[2]2,1 " in page.inner_text("#weight-panel")
    page.fill("#weight-input", "0.5")
    page.press("#weight-input", "Enter")
    wait_for(page, "() => window.playground.state.network.layers[1].W[1][0] === 0.5")
    # the neurons: Up/Down in a layer, Left/Right to the same place (or the last) next door
    page.focus("#neuron-1-0")
    for key, where in [("ArrowDown", "neuron-1-1"), ("ArrowRight", "neuron-2-1"), ("ArrowRight", "output-0"),
                       ("ArrowRight", "output-0"), ("ArrowLeft", "neuron-2-0"), ("ArrowUp", "neuron-2-0"),
                       ("ArrowLeft", "neuron-1-0"), ("End", "output-0"), ("Home", "neuron-1-0"),
                       ("ArrowDown", "neuron-1-1"), ("ArrowDown", "neuron-1-2"), ("ArrowDown", "neuron-1-2")]:
        page.keyboard.press(key)
        assert focused(page) == ("b", where), key
        assert tab_stops(page, NEURON) == [where]
    assert "b[1]3 " in page.inner_text("#weight-panel")
    page.keyboard.press(" ")
    assert "b[1]3 " in page.inner_text("#weight-panel") and page.is_visible("#weight-input")


def test_a_rebuilt_network_keeps_one_tab_stop_per_group(open_page):
    page = open_page("/?layers=3&act=tanh")  # W[1] 3×2, W[2] 1×3
    page.locator(EDGE).first.focus()
    for key in ("End", "ArrowLeft"):
        page.keyboard.press(key)
    assert focused(page) == ("W", 1, 2, 0)
    page.focus("#neuron-1-2")
    page.click("#add-layer")  # the remembered edge and neuron still exist: they stay the stops
    wait_for(page, "() => window.playground.state.config.layers.length === 2")
    assert tab_stops(page, EDGE) == [(1, 2, 0)] and tab_stops(page, NEURON) == ["neuron-1-2"]
    page.click("#columns .hidden-col button[title^='Remove a neuron from hidden layer 1']")
    wait_for(page, "() => window.playground.state.config.layers[0] === 2")
    # neuron 3 of layer 1 and the edges into it are gone: the first edge and neuron are the stops
    assert tab_stops(page, EDGE) == [(1, 0, 0)] and tab_stops(page, NEURON) == ["neuron-1-0"]
    page.locator(EDGE).first.focus()
    page.keyboard.press("ArrowDown")
    assert tab_stops(page, EDGE) == [(1, 0, 1)]
    page.click("#feature-x1")  # X₁ off: W[1] has one column, edge (1, 0, 1) is gone
    wait_for(page, "() => !window.playground.state.config.features.includes('x1')")
    assert tab_stops(page, EDGE) == [(1, 0, 0)] and tab_stops(page, NEURON) == ["neuron-1-0"]
    # one at a time, to check the Tab stops after each (quick clicks: see the tests at the end)
    page.click("#remove-layer")
    wait_for(page, "() => window.playground.state.config.layers.length === 1")
    page.click("#remove-layer")  # no hidden layer: the output is the only neuron
    wait_for(page, "() => window.playground.state.config.layers.length === 0")
    assert tab_stops(page, EDGE) == [(1, 0, 0)] and tab_stops(page, NEURON) == ["output-0"]
    page.click("#reset")
    wait_for(page, "() => window.playground.state.epoch === 0")
    assert len(tab_stops(page, EDGE)) == 1 and len(tab_stops(page, NEURON)) == 1


# -- a control pressed with the keyboard keeps the focus when the diagram is rebuilt -----------------
# Adding a neuron, toggling a feature or changing an activation rebuilds the diagram: every control
# in it is new. The one that had the focus gets it back (or, where it is gone or disabled, the
# nearest control that is there); the focus never falls to <body>, where the next Tab would start
# again at the top of the page.
_ACTIVE = """() => { const a = document.activeElement;
  if (a.matches('path.hit')) return ['W', +a.dataset.layer, +a.dataset.row, +a.dataset.col].join(' ');
  return a.id ? '#' + a.id : a.matches('.act-select') ? `activation ${+a.dataset.layer + 1}` : a.title || a.tagName; }"""
PLUS, MINUS = "Add a neuron to hidden layer {}", "Remove a neuron from hidden layer {}"


def active(page):
    """The focused element: '#id', an edge 'W l r c', a layer's button by its title, 'activation l'."""
    return page.evaluate(_ACTIVE)


def press_and_wait(page, key, condition):
    page.keyboard.press(key)
    wait_for(page, condition)


def test_the_neuron_buttons_keep_the_focus(open_page):
    page = open_page("/?layers=3,6&act=tanh,relu")
    page.focus(f"#columns button[title='{PLUS.format(2)}']")
    press_and_wait(page, "Enter", "() => window.playground.state.config.layers[1] === 7")
    assert len(state(page, "network")["layers"][1]["W"]) == 7 and page.locator("#neuron-2-6").count() == 1
    assert active(page) == PLUS.format(2)  # the new "+" of the same layer
    press_and_wait(page, " ", "() => window.playground.state.config.layers[1] === 8")
    # eight neurons, the most: "+" is disabled and the focus is on the layer's "−"
    assert page.is_disabled(f"#columns button[title='{PLUS.format(2)}']")
    assert active(page) == MINUS.format(2)
    for n in range(7, 0, -1):
        press_and_wait(page, "Enter", f"() => window.playground.state.config.layers[1] === {n}")
        if n > 1:
            assert active(page) == MINUS.format(2), n
    # one neuron: "−" is disabled and the focus is on the layer's "+"; the other layer is untouched
    assert page.is_disabled(f"#columns button[title='{MINUS.format(2)}']") and active(page) == PLUS.format(2)
    assert state(page, "config")["layers"] == [3, 1]
    press_and_wait(page, "Enter", "() => window.playground.state.config.layers[1] === 2")
    assert active(page) == PLUS.format(2)
    page.keyboard.press("Tab")  # on from there, not from the top of the page
    assert active(page) == MINUS.format(2)
    # the first layer's "−", pressed twice: the focus stays on it
    page.focus(f"#columns button[title='{MINUS.format(1)}']")
    press_and_wait(page, "Enter", "() => window.playground.state.config.layers[0] === 2")
    press_and_wait(page, "Enter", "() => window.playground.state.config.layers[0] === 1")
    assert active(page) == PLUS.format(1)


def test_a_feature_keeps_the_focus(open_page):
    page = open_page("/?layers=3&act=tanh")
    page.focus("#feature-x1sq")
    press_and_wait(page, " ", "() => window.playground.state.config.features.includes('x1sq')")
    assert active(page) == "#feature-x1sq" and page.get_attribute("#feature-x1sq", "aria-pressed") == "true"
    press_and_wait(page, " ", "() => !window.playground.state.config.features.includes('x1sq')")
    assert active(page) == "#feature-x1sq" and page.get_attribute("#feature-x1sq", "aria-pressed") == "false"
    press_and_wait(page, "Enter", "() => window.playground.state.config.features.includes('x1sq')")
    assert active(page) == "#feature-x1sq"
    page.keyboard.press("Tab")
    assert active(page) == "#feature-x2sq"  # the next feature


def test_an_activation_selector_keeps_the_focus(open_page):
    page = open_page("/?layers=3,2&act=tanh,tanh")
    # the selector changes with the arrow keys: each change rebuilds the diagram
    page.focus(".act-select[data-layer='0']")
    press_and_wait(page, "ArrowDown", "() => window.playground.state.config.act[0] !== 'tanh'")
    assert active(page) == "activation 1"
    changed = state(page, "config")["act"][0]
    press_and_wait(page, "ArrowDown", f"() => window.playground.state.config.act[0] !== '{changed}'")
    assert active(page) == "activation 1"
    assert page.input_value(".act-select[data-layer='0']") == state(page, "config")["act"][0]


def test_the_layer_buttons_keep_the_focus(open_page):
    page = open_page("/?layers=2,2,2,2&act=tanh,tanh,tanh,tanh")
    page.focus("#add-layer")
    press_and_wait(page, "Enter", "() => window.playground.state.config.layers.length === 5")
    assert active(page) == "#add-layer"
    press_and_wait(page, "Enter", "() => window.playground.state.config.layers.length === 6")
    # six hidden layers, the most: "+" is disabled and the focus is on "−"
    assert page.is_disabled("#add-layer") and active(page) == "#remove-layer"
    for n in range(5, -1, -1):
        press_and_wait(page, " ", f"() => window.playground.state.config.layers.length === {n}")
        if n:
            assert active(page) == "#remove-layer", n
    # no hidden layer left: "−" is disabled and the focus is on "+"
    assert page.is_disabled("#remove-layer") and active(page) == "#add-layer"
    assert page.locator("#columns .hidden-col").count() == 0
    press_and_wait(page, "Enter", "() => window.playground.state.config.layers.length === 1")
    assert active(page) == "#add-layer"


def test_the_weight_editor_gives_the_focus_back_to_its_edge_or_neuron(open_page):
    page = open_page("/?layers=3&act=tanh")
    page.locator(EDGE).first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert active(page) == "#weight-input"
    page.keyboard.type("0.25")
    press_and_wait(page, "Enter", "() => window.playground.state.network.layers[0].W[0][1] === 0.25")
    wait_for(page, "() => !document.querySelector('#weight-input')")
    assert active(page) == "W 1 0 1" and tab_stops(page, EDGE) == [(1, 0, 1)]
    assert "= 0.2500" in page.inner_text("#weight-panel")  # the readout of the focused edge
    page.focus("#neuron-1-2")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # cancelled: back on the neuron
    assert active(page) == "#neuron-1-2" and tab_stops(page, NEURON) == ["neuron-1-2"]
    # the editor open when the network is rebuilt (its neuron goes): the neurons' Tab stop
    page.keyboard.press("Enter")
    assert active(page) == "#weight-input"
    page.evaluate("() => window.playground.network.handlers.neurons(0, -1)")
    wait_for(page, "() => window.playground.state.config.layers[0] === 2")
    assert page.locator("#weight-input").count() == 0
    assert active(page) == "#neuron-1-0" and tab_stops(page, NEURON) == ["neuron-1-0"]


def test_an_edge_or_neuron_with_the_focus_keeps_it_through_a_rebuild(open_page):
    page = open_page("/?layers=3,2&act=tanh,tanh")
    # a rebuild that is not of the focused element's making (here a setting sent by the page)
    rebuild = "(layers) => window.playground.network.handlers.neurons(0, layers)"
    page.focus("#neuron-2-1")
    page.evaluate(rebuild, 1)
    wait_for(page, "() => window.playground.state.config.layers[0] === 4")
    assert active(page) == "#neuron-2-1" and tab_stops(page, NEURON) == ["neuron-2-1"]
    page.focus("path.hit[data-layer='2'][data-row='1'][data-col='3']")  # from the new 4th neuron of layer 1
    page.keyboard.press("ArrowUp")
    assert active(page) == "W 2 1 2"
    page.keyboard.press("ArrowDown")
    assert active(page) == "W 2 1 3" and tab_stops(page, EDGE) == [(2, 1, 3)]
    page.evaluate(rebuild, -1)
    wait_for(page, "() => window.playground.state.config.layers[0] === 3")
    # the edge is gone: the focus is on the edges' Tab stop, the first edge
    assert active(page) == "W 1 0 0" and tab_stops(page, EDGE) == [(1, 0, 0)]
    page.keyboard.press("ArrowDown")
    page.evaluate(rebuild, 1)
    wait_for(page, "() => window.playground.state.config.layers[0] === 4")
    assert active(page) == "W 1 0 1" and tab_stops(page, EDGE) == [(1, 0, 1)]


def test_the_explain_stepper_keeps_the_focus(open_page):
    page = open_page("/?dataset=moons&layers=3&act=tanh&seed=4")
    _step_then_explain(page, "0")
    wait_for(page, "() => document.querySelector('#explain-body').dataset.stage === 'Forward'")
    page.focus("#stage-next")
    for stage in ("Loss", "Backward", "Gradients", "Update"):
        press_and_wait(page, "Enter", f"() => document.querySelector('#explain-body').dataset.stage === '{stage}'")
    assert page.is_disabled("#stage-next") and active(page) == "#stage-prev"  # the last stage
    press_and_wait(page, "Enter", "() => document.querySelector('#explain-body').dataset.stage === 'Gradients'")
    assert active(page) == "#stage-prev"
    page.focus("#stages button:nth-child(2)")
    press_and_wait(page, " ", "() => document.querySelector('#explain-body').dataset.stage === 'Loss'")
    # a setting changed (here by the server, as another request would) clears the trace and
    # disables the stepper: the focus goes to "Explain this point"
    page.evaluate("""() => fetch(`/api/sessions/${window.playground.sid}/config`, {method: 'PUT',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify({seed: 5})})""")
    wait_for(page, "() => window.playground.trace === null")
    assert active(page) == "#explain-btn"


def test_the_step_button_hands_the_focus_to_reset_when_training_diverges(open_page):
    page = open_page("/?dataset=circle&layers=8,8&act=relu,relu&loss=mse&lr=10")
    page.focus("#step")
    for _ in range(30):
        if state(page, "status") == "diverged":
            break
        page.keyboard.press("Enter")
        page.wait_for_timeout(50)
    wait_for(page, "() => window.playground.state.status === 'diverged'")
    assert page.is_disabled("#step") and active(page) == "#reset"


def test_the_focus_ring_shows_on_the_plus_button_pressed_with_the_keyboard(open_page, tmp_path):
    page = open_page("/?layers=3&act=tanh")
    page.focus(f"#columns button[title='{PLUS.format(1)}']")
    press_and_wait(page, "Enter", "() => window.playground.state.config.layers[0] === 4")
    assert active(page) == PLUS.format(1)
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; }")
    assert page.evaluate("() => document.activeElement.matches(':focus-visible')") and ring[0] == "solid", ring
    shot = tmp_path / "playground_plus_focus.png"
    page.locator("section.net-col").screenshot(path=str(shot))
    if os.environ.get("CHAINRULE_ARTIFACT_DIR"):
        target = Path(os.environ["CHAINRULE_ARTIFACT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)


# -- every press counts: quick presses work on the settings asked for, not the last ones answered -----
# Settings go to the server one request at a time. A press made before the server has answered the
# one before (a double click, Enter pressed twice or held) used to read the layer widths the page
# last received, and ask for the same width again: "+" twice added one neuron. The page's requests
# are held back a while here, so that every press below is made before the first answer arrives.
def slow_settings(page, ms=300):
    """Hold each settings request of ``page`` for ``ms`` before it leaves (the page does not know)."""
    page.evaluate("""(ms) => { const send = window.fetch;
      window.fetch = (url, init) => (init && init.method === 'PUT' && String(url).endsWith('/config')
        ? new Promise((r) => setTimeout(r, ms)).then(() => send(url, init)) : send(url, init)); }""", ms)


def settled(page, condition="true", timeout=10000):
    """Wait until no settings change of the page is on its way and ``condition`` holds."""
    wait_for(page, f"() => !(window.playground.changes || []).length && ({condition})", timeout)


def server_state(page):
    """The session's state as the server has it now (asked afresh, not the page's copy)."""
    return page.evaluate("async () => (await fetch(`/api/sessions/${window.playground.sid}/state`)).json()")


def shows_the_servers_network(page):
    """Assert that the page (its diagram, controls and address) shows the server's settings; return them."""
    config = server_state(page)["config"]
    assert state(page, "config") == config
    heads = page.evaluate("""() => [...document.querySelectorAll('#columns .hidden-col')].map((c) =>
      [c.querySelectorAll('.node').length, c.querySelector('.col-head > span').textContent, c.querySelector('.act-select').value])""")
    assert heads == [[n, f"{n} neuron{'s' if n > 1 else ''}", a] for n, a in zip(config["layers"], config["act"])]
    on = page.evaluate("() => [...document.querySelectorAll('#columns .node.feature:not(.off)')].map(n => n.dataset.feature)")
    assert on == config["features"]
    pressed = page.evaluate("() => [...document.querySelectorAll('#columns .node.feature[aria-pressed=\"true\"]')].map(n => n.dataset.feature)")
    assert pressed == config["features"]
    n = len(config["layers"])
    assert page.inner_text("#layer-count") == f"{n} hidden layer{'' if n == 1 else 's'}"
    assert page.is_disabled("#add-layer") == (n == 6) and page.is_disabled("#remove-layer") == (n == 0)
    for li, width in enumerate(config["layers"]):
        assert page.is_disabled(f"#columns button[title='{PLUS.format(li + 1)}']") == (width == 8)
        assert page.is_disabled(f"#columns button[title='{MINUS.format(li + 1)}']") == (width == 1)
    query = dict(part.split("=", 1) for part in page.url.split("?", 1)[1].split("&"))
    assert query["layers"].replace("%2C", ",") == ",".join(map(str, config["layers"]))
    assert query["features"].replace("%2C", ",") == ",".join(config["features"])
    return config


def test_a_double_click_on_a_layers_plus_or_minus_counts_twice(open_page):
    page = open_page("/?layers=4,2&act=tanh,relu")
    slow_settings(page)
    page.dblclick(f"#columns button[title='{PLUS.format(1)}']")
    settled(page, "window.playground.state.config.layers[0] === 6")
    assert shows_the_servers_network(page)["layers"] == [6, 2]
    page.dblclick(f"#columns button[title='{MINUS.format(1)}']")
    settled(page, "window.playground.state.config.layers[0] === 4")
    assert shows_the_servers_network(page)["layers"] == [4, 2]
    # two clicks without waiting, on the second layer's "+", then its "−" three times: from 2 to
    # 4 and down to 1, where "−" is disabled (the third click does nothing)
    for title in (PLUS.format(2), PLUS.format(2)):
        page.click(f"#columns button[title='{title}']")
    settled(page, "window.playground.state.config.layers[1] === 4")
    assert shows_the_servers_network(page)["layers"] == [4, 4]
    minus = f"#columns button[title='{MINUS.format(2)}']"
    page.click(minus)
    page.click(minus)
    page.click(minus)
    assert page.is_disabled(minus)  # at once: at one neuron asked for, before the server answers
    settled(page, "window.playground.state.config.layers[1] === 1")
    assert shows_the_servers_network(page)["layers"] == [4, 1]
    # the activation chosen is kept by the presses after it
    page.select_option(".act-select[data-layer='0']", "sigmoid")
    page.click(f"#columns button[title='{PLUS.format(1)}']")
    settled(page, "window.playground.state.config.layers[0] === 5")
    assert shows_the_servers_network(page)["act"] == ["sigmoid", "relu"]


def test_adding_or_removing_layers_twice_quickly_counts_twice(open_page):
    page = open_page("/?layers=3&act=relu")
    slow_settings(page)
    page.dblclick("#add-layer")
    settled(page, "window.playground.state.config.layers.length === 3")
    config = shows_the_servers_network(page)
    assert config["layers"] == [3, 3, 3] and config["act"] == ["relu", "relu", "relu"]
    page.dblclick("#remove-layer")
    settled(page, "window.playground.state.config.layers.length === 1")
    assert shows_the_servers_network(page)["layers"] == [3]
    # from one layer to six, the most, with quick clicks: "+" is disabled as soon as six are
    # asked for, before the answers, and a click on it then does nothing
    for _ in range(5):
        page.click("#add-layer")
    assert page.is_disabled("#add-layer") and state(page, "config")["layers"] != [3] * 6
    page.click("#add-layer", force=True)
    settled(page, "window.playground.state.config.layers.length === 6")
    page.wait_for_timeout(400)
    assert shows_the_servers_network(page)["layers"] == [3] * 6
    # and all of them away with quick presses of Enter and Space on the focused "−"; the sixth
    # disables it and hands the focus to "+", which the seventh (made for "−") does not press
    page.focus("#remove-layer")
    for key in ("Enter", " ", "Enter", "Enter", " ", "Enter", "Enter"):
        page.keyboard.press(key)
    settled(page, "window.playground.state.config.layers.length === 0")
    page.wait_for_timeout(400)
    assert shows_the_servers_network(page)["layers"] == [] and active(page) == "#add-layer"


def test_enter_pressed_quickly_or_held_on_plus_counts_every_press(open_page):
    page = open_page("/?layers=4,3&act=tanh,tanh")
    slow_settings(page)
    plus = f"#columns button[title='{PLUS.format(1)}']"
    page.focus(plus)
    for _ in range(3):
        page.keyboard.press("Enter")
    settled(page, "window.playground.state.config.layers[0] === 7")
    assert shows_the_servers_network(page)["layers"] == [7, 3]
    assert active(page) == PLUS.format(1)  # the rebuilt layer's "+"
    # three more quick presses: the first reaches 8, the most; "+" is disabled and hands the focus
    # to "−", which the other two presses (made for "+") do not press
    for _ in range(3):
        page.keyboard.press("Enter")
    settled(page, "window.playground.state.config.layers[0] === 8")
    page.wait_for_timeout(400)
    assert shows_the_servers_network(page)["layers"] == [8, 3]
    assert active(page) == MINUS.format(1)
    # Enter held down on the second layer's "+": every repeat adds one, up to 8, and the repeats
    # after that do not press the "−" that has the focus then
    page.focus(f"#columns button[title='{PLUS.format(2)}']")
    for _ in range(9):
        page.keyboard.down("Enter")
    page.keyboard.up("Enter")
    settled(page, "window.playground.state.config.layers[1] === 8")
    page.wait_for_timeout(400)
    assert shows_the_servers_network(page)["layers"] == [8, 8]
    assert active(page) == MINUS.format(2)
    # once the page has caught up, a new press on "−" is the user's: it removes a neuron
    press_and_wait(page, "Enter", "window.playground.state.config.layers[1] === 7")
    settled(page)
    assert shows_the_servers_network(page)["layers"] == [8, 7] and active(page) == MINUS.format(2)
    # "−" then "+" at once: while the answer to "−" comes in, "+" (asked for: 7) stays enabled
    # and keeps the focus
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert active(page) == PLUS.format(2)
    settled(page, "window.playground.state.config.layers[1] === 7")
    page.wait_for_timeout(400)
    assert shows_the_servers_network(page)["layers"] == [8, 7] and active(page) == PLUS.format(2)


def test_quick_feature_toggles_activations_and_data_sets_build_on_each_other(open_page):
    page = open_page("/?dataset=moons&layers=4,2&act=tanh,tanh")
    slow_settings(page)
    page.click("#feature-x1sq")
    page.click("#feature-x2sq")  # the two features on, not the second alone
    page.select_option(".act-select[data-layer='0']", "relu")
    page.select_option(".act-select[data-layer='1']", "sigmoid")  # keeps the first layer's relu
    page.click(f"#columns button[title='{PLUS.format(1)}']")  # keeps both activations
    assert page.get_attribute("#feature-x2sq", "aria-pressed") == "true"  # at once
    settled(page, "window.playground.state.config.layers[0] === 5")
    config = shows_the_servers_network(page)
    assert config["features"] == ["x1", "x2", "x1sq", "x2sq"] and config["act"] == ["relu", "sigmoid"]
    # sin(x) and then circle, quickly: circle is chosen from the one-input set (X₂ comes back)
    page.click("#datasets button[data-dataset='sine']")
    page.click("#datasets button[data-dataset='circle']")
    settled(page, "window.playground.state.config.dataset === 'circle'")
    config = shows_the_servers_network(page)
    assert config["features"] == ["x1", "x2", "x1sq"] and config["loss"] == "bce"
    assert page.input_value("#loss") == "bce" and not page.is_visible("#message")


def test_a_refused_change_drops_the_presses_made_after_it(open_page):
    """The server refuses the second of three quick feature toggles (no input feature left):
    the third, made on top of it, is not sent, and the page shows the server's state."""
    page = open_page("/?layers=3&act=tanh")
    slow_settings(page, 600)  # the presses below take a few actions each: all before the refusal
    for feature in ("x1", "x2", "x1sq"):
        page.click(f"#feature-{feature}")
    settled(page, "document.querySelector('#message').dataset.kind === 'error' && !document.querySelector('#message').hidden")
    message = page.inner_text("#message")
    assert "choose at least one input feature" in message and "The change made after it was not sent." in message
    assert shows_the_servers_network(page)["features"] == ["x2"]
    assert page.get_attribute("#feature-x1sq", "aria-pressed") == "false"
    # a refused setting among neuron presses: the two before it count, the one after it is dropped
    plus = f"#columns button[title='{PLUS.format(1)}']"
    page.click(plus)
    page.click(plus)
    page.fill("#batch", "0")
    page.press("#batch", "Enter")
    page.locator("#batch").blur()
    page.click(plus)
    settled(page, "document.querySelector('#message').textContent.includes('batch must be between')")
    assert "The change made after it was not sent." in page.inner_text("#message")
    assert shows_the_servers_network(page)["layers"] == [5] and page.input_value("#batch") == "10"
    # the page goes on from there: a press counts again
    page.click(plus)
    settled(page, "window.playground.state.config.layers[0] === 6")
    assert shows_the_servers_network(page)["layers"] == [6]
    assert not page.is_visible("#message")
