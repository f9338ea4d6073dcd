"""The playground server's API, through Starlette's TestClient: bounded and validated inputs,
sessions isolated from each other, uploads that never crash it, divergence and recovery, the
explain trace checked against an independent computation."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.testclient import TestClient

from chainrule.playground import create_app, parse_config
from chainrule.playground.server import LOCAL_HOSTS
from chainrule.playground.datasets import (
    GENERATORS,
    feature_matrix,
    generate,
    parse_csv,
)


CSV = {"content-type": "text/csv"}
JSON = {"content-type": "application/json"}
#: the test client's Host; production servers do not accept it (see test_playground_audit_security.py)
TEST_HOSTS = [*LOCAL_HOSTS, "testserver"]


@pytest.fixture
def client():
    with TestClient(create_app(max_sessions=6, allowed_hosts=TEST_HOSTS)) as c:
        yield c


def new(client, **config):
    r = client.post("/api/sessions", json={"config": config})
    assert r.status_code == 200, r.text
    return r.json()["id"], r.json()["state"]


def weights(state):
    return [(layer["W"], layer["b"]) for layer in state["network"]["layers"]]


def error(response, status=400):
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert isinstance(message, str) and message
    return message


# -- pages and options ------------------------------------------------------------------------------
def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "chainrule playground" in page.text
    for name in ("app.js", "draw.js", "network.js", "explain.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text  # everything is local


def test_options_list_the_bounds(client):
    o = client.get("/api/options").json()
    assert o["max_layers"] == 6 and o["max_neurons"] == 8
    assert set(o["activations"]) == {"relu", "tanh", "sigmoid", "linear", "xtanh"}
    assert set(o["losses"]) == {"bce", "cross_entropy", "mse", "hinge"}
    assert set(o["optimizers"]) == {"sgd", "momentum", "adam"}
    assert {"circle", "xor", "gauss", "spiral", "moons", "linear", "sine", "csv"} == set(o["datasets"])


def test_untrusted_host_header_is_refused(client):
    assert client.get("/api/options", headers={"host": "evil.example"}).status_code == 400


# -- bounded inputs ----------------------------------------------------------------------------------
BAD_SETTINGS = [
    ({"layers": "1,1,1,1,1,1,1", "act": "tanh,tanh,tanh,tanh,tanh,tanh,tanh"}, "at most 6"),
    ({"layers": "9"}, "between 1 and 8"),
    ({"layers": "0"}, "between 1 and 8"),
    ({"layers": "2.5"}, "whole number"),
    ({"layers": {"a": 1}}, "comma-separated"),
    ({"lr": 0}, "lr must be between"),
    ({"lr": 11}, "lr must be between"),
    ({"lr": "abc"}, "lr must be a number"),
    ({"lr": "nan"}, "lr must be between"),
    ({"lr": True}, "lr must be a number"),
    ({"batch": 0}, "batch must be between"),
    ({"batch": 1001}, "batch must be between"),
    ({"batch": 2.5}, "whole number"),
    ({"noise": 51}, "noise must be between"),
    ({"ratio": 5}, "ratio must be between"),
    ({"points": 10**9}, "points must be between"),
    ({"seed": -1}, "seed must be between"),
    ({"rate": 20}, "rate must be between"),
    ({"dropout": 0.95}, "dropout must be between"),
    ({"features": ""}, "at least one input feature"),
    ({"features": "x3"}, "features entry must be one of"),
    ({"features": "x1,x1"}, "twice"),
    ({"act": "softplus,tanh"}, "activation) must be one of"),
    ({"act": "tanh"}, "1 activation(s) for 2 hidden layer(s)"),
    ({"loss": "huber"}, "loss must be one of"),
    ({"opt": "lbfgs"}, "opt must be one of"),
    ({"dataset": "mnist"}, "dataset must be one of"),
    ({"wibble": 1}, "unknown setting 'wibble'"),
    ({"dataset": "gauss", "classes": 3, "loss": "bce"}, "with 3 classes use cross_entropy or mse"),
    ({"dataset": "sine", "loss": "mse", "features": "x1,x2"}, "feature x2 is not available"),
    ({"dataset": "sine", "features": "x1", "loss": "bce"}, "regression problem uses mse"),
    ({"dataset": "csv"}, "upload a CSV"),
]


@pytest.mark.parametrize("settings, expected", BAD_SETTINGS)
def test_bad_settings_are_refused_with_a_message(client, settings, expected):
    assert expected in error(client.post("/api/sessions", json={"config": settings}))
    sid, state = new(client)
    before = state["config"]
    assert expected in error(client.put(f"/api/sessions/{sid}/config", json=settings))
    assert client.get(f"/api/sessions/{sid}/state").json()["config"] == before  # nothing changed


def test_every_bound_accepts_its_extremes(client):
    _, state = new(client, layers="8,8,8,8,8,8", act="relu,tanh,sigmoid,linear,xtanh,tanh", lr=10, batch=1000,
                     noise=50, ratio=90, points=1000, seed=2**31 - 1, rate=10, reg="l1",
                     features="x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2")
    assert [len(layer["W"]) for layer in state["network"]["layers"]] == [8] * 6 + [1]
    assert len(state["network"]["layers"][0]["W"][0]) == 7
    _, state = new(client, layers="", act="", lr=1e-5, batch=1, noise=0, ratio=10, points=50, seed=0)
    assert len(state["network"]["layers"]) == 1  # no hidden layer: a linear model
    assert state["n_train"] == 5 and state["n_test"] == 45


def test_malformed_json_and_oversized_bodies(client):
    sid, _ = new(client)
    r = client.put(f"/api/sessions/{sid}/config", content=b"{not json", headers={"content-type": "application/json"})
    assert "not valid JSON" in error(r)
    assert "JSON object" in error(client.put(f"/api/sessions/{sid}/config", json=[1, 2]))
    big = json.dumps({"layers": "1," * 40_000})
    assert "limit" in error(client.put(f"/api/sessions/{sid}/config", content=big, headers=JSON), 413)


def test_deeply_nested_json_is_refused_not_crashing(client):
    deep = b"[" * 30_000 + b"]" * 30_000  # 60 kB: under the size cap, far over the parser's depth
    assert "nested too deeply" in error(client.post("/api/sessions", content=deep, headers=JSON))
    sid, _ = new(client)
    assert "nested too deeply" in error(client.put(f"/api/sessions/{sid}/config", content=b'{"layers":' + deep + b"}", headers=JSON))
    assert client.get(f"/api/sessions/{sid}/state").status_code == 200


def test_missing_settings_take_defaults_that_fit_the_data(client):
    _, state = new(client, dataset="sine")  # the short link /?dataset=sine
    assert state["config"]["loss"] == "mse" and state["config"]["features"] == ["x1"] and state["task"] == "regression"
    _, state = new(client, dataset="sine", features="x1,x1sq,sinx1")
    assert state["config"]["features"] == ["x1", "x1sq", "sinx1"]
    _, state = new(client, dataset="spiral", classes=3)
    assert state["config"]["loss"] == "cross_entropy" and state["task"] == "multiclass"
    _, state = new(client, dataset="gauss", classes=4, loss="mse")  # a loss given that fits is kept
    assert state["config"]["loss"] == "mse"
    # a value given that does not fit is still refused (see BAD_SETTINGS); so is a PUT of one
    sid, _ = new(client)
    assert "regression problem uses mse" in error(client.put(f"/api/sessions/{sid}/config", json={"dataset": "sine", "loss": "hinge"}))
    state = client.put(f"/api/sessions/{sid}/config", json={"dataset": "gauss", "classes": 3}).json()
    assert state["config"]["loss"] == "cross_entropy"  # the session's bce does not fit 3 classes


def test_unknown_session_and_action(client):
    assert "reload the page" in error(client.get("/api/sessions/nope/state"), 404)
    sid, _ = new(client)
    assert "unknown action" in error(client.post(f"/api/sessions/{sid}/dance"), 404)
    assert client.post(f"/api/sessions/{sid}/close").json() == {"closed": True}
    assert "reload the page" in error(client.post(f"/api/sessions/{sid}/step"), 404)


def test_session_count_is_bounded(client):
    for _ in range(6):
        new(client)
    assert "too many open playground tabs" in error(client.post("/api/sessions", json={}), 503)


def test_weight_edits_are_bounded(client):
    sid, _ = new(client, layers="3", act="tanh")
    url = f"/api/sessions/{sid}/weight"
    r = client.put(url, json={"layer": 1, "kind": "W", "row": 2, "col": 1, "value": 1.25})
    assert r.status_code == 200 and r.json()["network"]["layers"][0]["W"][2][1] == 1.25
    r = client.put(url, json={"layer": 2, "kind": "b", "row": 0, "value": -0.5})
    assert r.json()["network"]["layers"][1]["b"] == [-0.5]
    for body, expected in [
        ({"layer": 1, "row": 0, "col": 0, "value": 101}, "between -100.0 and 100.0"),
        ({"layer": 1, "row": 0, "col": 0, "value": "inf"}, "between -100.0 and 100.0"),
        ({"layer": 1, "row": 0, "col": 0, "value": None}, "must be a number"),
        ({"layer": 3, "row": 0, "col": 0, "value": 1}, "layer must be 1..2"),
        ({"layer": 1, "row": 3, "col": 0, "value": 1}, "row must be 0..2"),
        ({"layer": 1, "row": 0, "col": 2, "value": 1}, "col must be 0..1"),
        ({"layer": 1, "kind": "q", "row": 0, "col": 0, "value": 1}, "kind must be"),
    ]:
        assert expected in error(client.put(url, json=body))


def test_a_weight_edit_updates_the_losses_and_metrics(client):
    sid, _ = new(client, layers="3", act="tanh")
    for _ in range(5):
        before = client.post(f"/api/sessions/{sid}/step").json()
    state = client.put(f"/api/sessions/{sid}/weight", json={"layer": 2, "kind": "b", "row": 0, "value": 50}).json()
    assert state["epoch"] == 5 and state["last"] != before["last"]
    # a bias of 50 on the logit: every point is called class 1, so accuracy is the share of class 1
    data = client.get(f"/api/sessions/{sid}/data").json()
    assert state["last"]["test_metric"] == pytest.approx(np.mean(data["test"]["y"]))
    assert state["last"]["train_metric"] == pytest.approx(np.mean(data["train"]["y"]))
    assert state["last"]["train_loss"] > 5 * before["last"]["train_loss"]
    assert state["history"][-1] == [5, state["last"]["train_loss"], state["last"]["test_loss"],
                                    state["last"]["train_metric"], state["last"]["test_metric"]]


# -- sessions: isolation and reproducibility --------------------------------------------------------
def test_sessions_are_isolated(client):
    a, state_a = new(client, dataset="xor", layers="4", act="relu", seed=3)
    b, state_b = new(client, dataset="xor", layers="4", act="relu", seed=3)
    assert a != b and weights(state_a) == weights(state_b)
    for _ in range(5):
        client.post(f"/api/sessions/{a}/step")
    client.put(f"/api/sessions/{a}/weight", json={"layer": 1, "row": 0, "col": 0, "value": 7})
    client.put(f"/api/sessions/{a}/config", json={"lr": 0.1, "act": "tanh"})
    after_a = client.get(f"/api/sessions/{a}/state").json()
    after_b = client.get(f"/api/sessions/{b}/state").json()
    assert after_a["config"]["act"] == ["tanh"] and after_b["config"]["act"] == ["relu"]
    assert after_b["epoch"] == 0 and weights(after_b) == weights(state_b)
    # both train at once, each its own network
    client.post(f"/api/sessions/{a}/play")
    client.post(f"/api/sessions/{b}/play")
    time.sleep(0.6)
    client.post(f"/api/sessions/{a}/pause")
    client.post(f"/api/sessions/{b}/pause")
    sa = client.get(f"/api/sessions/{a}/state").json()
    sb = client.get(f"/api/sessions/{b}/state").json()
    assert sa["epoch"] > 0 and sb["epoch"] > 0 and sa["status"] == sb["status"] == "paused"
    assert weights(sa) != weights(sb)


def test_same_settings_give_the_same_run(client):
    settings = {"dataset": "moons", "layers": "5,3", "act": "tanh,relu", "opt": "adam", "lr": 0.01, "batch": 7, "seed": 11}
    runs = []
    for _ in range(2):
        sid, start = new(client, **settings)
        for _ in range(4):
            state = client.post(f"/api/sessions/{sid}/step").json()
        runs.append((weights(start), weights(state), state["history"], client.get(f"/api/sessions/{sid}/data").json()["train"]))
    assert runs[0] == runs[1]
    sid, other = new(client, **{**settings, "seed": 12})
    assert weights(other) != runs[0][0]


def test_dropout_trains_reproducibly_and_keeps_the_weights_when_changed(client):
    runs = []
    for _ in range(2):
        sid, _ = new(client, dataset="circle", layers="6,6", act="relu,relu", dropout=0.3, seed=4)
        for _ in range(3):
            state = client.post(f"/api/sessions/{sid}/step").json()
        runs.append(weights(state))
    assert runs[0] == runs[1]
    state = client.put(f"/api/sessions/{sid}/config", json={"dropout": 0}).json()
    assert weights(state) == runs[1] and state["epoch"] == 3  # same weights, training goes on
    stepped = client.post(f"/api/sessions/{sid}/step").json()
    assert stepped["epoch"] == 4 and weights(stepped) != runs[1]
    trace = client.put(f"/api/sessions/{sid}/config", json={"dropout": 0.5}) and client.post(
        f"/api/sessions/{sid}/explain", json={"split": "train", "index": 0}).json()
    assert "Dropout (p = 0.5)" in trace["note"]


def test_epochs_do_not_depend_on_how_training_was_chunked():
    from chainrule.playground.session import Session

    config = parse_config({"dataset": "xor", "layers": "5,4", "act": "relu,xtanh", "opt": "adam", "lr": 0.01,
                           "batch": 16, "dropout": 0.2, "reg": "l2", "rate": 0.001, "seed": 9})
    one, many = Session("one", config), Session("many", config)
    one.step(12)
    for _ in range(12):
        many.step(1)
    assert one.epoch == many.epoch == 12
    for a, b in zip(one.net.get_weights(), many.net.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_unwatched_session_stops_training():
    from chainrule.playground.session import UNWATCHED_PAUSE, Session

    session = Session("s", parse_config({}))
    session.play()
    time.sleep(0.2)
    assert session.status == "running" and session.epoch > 0
    session.touched -= UNWATCHED_PAUSE + 1  # as if the tab had gone away
    session._thread.join(timeout=5)
    assert session.status == "paused" and "no page" in session.message


def test_play_streams_states_and_pause_stops(client):
    sid, _ = new(client, dataset="circle", layers="4", act="tanh")
    client.post(f"/api/sessions/{sid}/play")
    with client.stream("GET", f"/api/sessions/{sid}/events?max_events=3") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = b"".join(response.iter_bytes()).decode()
    events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert len(events) == 3
    assert [e["version"] for e in events] == sorted({e["version"] for e in events})
    assert events[-1]["epoch"] >= events[0]["epoch"]
    paused = client.post(f"/api/sessions/{sid}/pause").json()
    time.sleep(0.3)
    assert client.get(f"/api/sessions/{sid}/state").json()["epoch"] == paused["epoch"]
    assert "max_events" in error(client.get(f"/api/sessions/{sid}/events?max_events=0"))


def test_training_lowers_the_test_loss_and_maps_have_the_right_size(client):
    sid, start = new(client, dataset="circle", features="x1sq,x2sq", layers="", act="", lr=0.1, batch=10)
    for _ in range(30):
        state = client.post(f"/api/sessions/{sid}/step").json()
    assert state["epoch"] == 30
    assert state["last"]["test_loss"] < 0.5 * start["last"]["test_loss"]
    assert state["last"]["test_metric"] > 0.9
    G = state["maps"]["size"]
    assert len(base64.b64decode(state["maps"]["output"]["data"])) == G * G
    assert state["maps"]["neurons"] == []  # no hidden layer
    sid, state = new(client, dataset="spiral", classes=4, loss="cross_entropy", layers="3,2", act="relu,tanh")
    assert state["task"] == "multiclass" and len(state["network"]["layers"][-1]["W"]) == 4
    assert [len(layer) for layer in state["maps"]["neurons"]] == [3, 2]
    n = state["maps"]["neuron_size"]
    assert len(base64.b64decode(state["maps"]["neurons"][0][0]["data"])) == n * n
    assert set(base64.b64decode(state["maps"]["output"]["label"])) <= {0, 1, 2, 3}


# -- divergence -------------------------------------------------------------------------------------
def test_divergence_is_reported_and_reset_recovers(client):
    sid, start = new(client, dataset="circle", layers="8,8", act="relu,relu", loss="mse", lr=10)
    for _ in range(20):
        r = client.post(f"/api/sessions/{sid}/step")
        if r.status_code != 200:
            break
    state = client.get(f"/api/sessions/{sid}/state").json()
    assert state["status"] == "diverged"
    assert "diverged at epoch" in state["message"] and "press reset" in state["message"]
    assert all(np.isfinite(np.array(w, dtype=float)).all() for layer in weights(state) for w in layer)
    assert "press reset" in error(client.post(f"/api/sessions/{sid}/step"))
    assert "press reset" in error(client.post(f"/api/sessions/{sid}/play"))
    state = client.post(f"/api/sessions/{sid}/reset").json()
    assert state["status"] == "paused" and state["epoch"] == 0 and state["message"] is None
    assert weights(state) == weights(start)
    state = client.put(f"/api/sessions/{sid}/config", json={"lr": 0.01}).json()
    assert client.post(f"/api/sessions/{sid}/step").json()["status"] == "paused"


def test_changing_the_learning_rate_continues_a_diverged_run(client):
    sid, _ = new(client, dataset="circle", layers="8,8", act="relu,relu", loss="mse", lr=10)
    for _ in range(20):
        if client.post(f"/api/sessions/{sid}/step").status_code != 200:
            break
    diverged = client.get(f"/api/sessions/{sid}/state").json()
    assert diverged["status"] == "diverged" and "lower the learning rate" in diverged["message"]
    assert "lower the learning rate" in error(client.post(f"/api/sessions/{sid}/step"))
    state = client.put(f"/api/sessions/{sid}/config", json={"dropout": 0.1}).json()
    assert state["status"] == "diverged"  # not an optimizer setting: still stopped
    state = client.put(f"/api/sessions/{sid}/config", json={"lr": 0.01, "dropout": 0}).json()
    assert state["status"] == "paused" and state["message"] is None
    assert state["epoch"] == diverged["epoch"] and weights(state) == weights(diverged)  # the kept weights
    stepped = client.post(f"/api/sessions/{sid}/step").json()
    assert stepped["status"] == "paused" and stepped["epoch"] == diverged["epoch"] + 1
    assert stepped["last"]["train_loss"] is not None


def _diverge(config, chunks):
    from chainrule.playground.session import Session

    session = Session("s", parse_config(config))
    for n in chunks:
        if not session._train(n):
            break
    return session


DIVERGING = [  # (settings, epoch the kept weights belong to)
    ({"dataset": "circle", "act": "tanh,tanh", "loss": "mse", "lr": 1, "batch": 1000}, 6),  # 1000× the first loss
    ({"dataset": "xor", "act": "xtanh,xtanh", "loss": "bce", "lr": 1, "batch": 1000}, 4),  # 1000× ln 2
    ({"dataset": "circle", "act": "xtanh,xtanh", "loss": "bce", "lr": 1, "batch": 10}, 39),  # NaN mid-epoch
    ({"dataset": "xor", "act": "xtanh,xtanh", "loss": "hinge", "lr": 0.3, "batch": 10}, 59),  # inf mid-epoch
    ({"dataset": "sine", "features": "x1", "loss": "mse", "layers": "8,8", "act": "relu,relu", "lr": 10, "batch": 1}, 0),
]


@pytest.mark.parametrize("config, kept", DIVERGING)
def test_a_diverged_run_keeps_the_same_weights_stepped_or_played(config, kept):
    stepped = _diverge(config, [1] * 300)
    played = _diverge(config, [300])
    mixed = _diverge(config, [2, 1, 3, 1, 1, 5, 300])
    assert stepped.status == played.status == mixed.status == "diverged"
    assert stepped.epoch == played.epoch == mixed.epoch == kept
    assert stepped.message == played.message == mixed.message
    for other in (played, mixed):
        for a, b in zip(stepped.net.get_weights(), other.net.get_weights()):
            np.testing.assert_array_equal(a, b)
    # the epoch shown is the one the kept weights belong to: a run of that many epochs ends there
    again = _diverge(config, [stepped.epoch] if stepped.epoch else [])
    assert again.status == "paused" and again.epoch == stepped.epoch
    for a, b in zip(stepped.net.get_weights(), again.net.get_weights()):
        np.testing.assert_array_equal(a, b)
    epoch, train_loss = stepped.history[-1][:2]
    assert epoch == stepped.epoch and train_loss is not None  # finite
    assert all(row[0] <= epoch for row in stepped.history)  # the chart forgets the undone epochs
    assert f"after epoch {epoch}" in stepped.message or (epoch == 0 and "initial weights" in stepped.message)


def test_absurd_growth_is_a_divergence_across_steps():
    # one epoch per call: a per-call test (StopOnDivergence) never sees the growth
    from chainrule.playground.session import GROWTH_FACTOR

    session = _diverge(DIVERGING[0][0], [1] * 300)
    assert "over 1000× that of the run's first epoch" in session.message and session.epoch == DIVERGING[0][1]
    assert session.history[-1][1] <= GROWTH_FACTOR * session.history[0][1]


def test_a_loss_spike_back_to_the_start_is_not_a_divergence():
    # Adam from a near-zero loss jumps back to about the first epoch's loss and recovers;
    # a 1000×-the-best test would stop this run (at epoch 682)
    session = _diverge({"dataset": "spiral", "noise": 5, "seed": 3, "layers": "8,8,6", "act": "tanh,tanh,tanh",
                        "opt": "adam", "lr": 0.01, "features": "x1,x2,sinx1,sinx2"}, [100] * 8)
    assert session.status == "paused" and session.epoch == 800
    assert min(row[1] for row in session.history) < 1e-4  # it was in that near-zero regime


def test_divergence_while_playing_stops_the_thread(client):
    sid, _ = new(client, dataset="sine", features="x1", loss="mse", layers="8,8", act="relu,relu", lr=10, batch=1)
    client.post(f"/api/sessions/{sid}/play")
    deadline = time.time() + 5
    while time.time() < deadline:
        state = client.get(f"/api/sessions/{sid}/state").json()
        if state["status"] == "diverged":
            break
        time.sleep(0.05)
    assert state["status"] == "diverged"
    epoch = state["epoch"]
    time.sleep(0.2)
    assert client.get(f"/api/sessions/{sid}/state").json()["epoch"] == epoch


# -- uploads ------------------------------------------------------------------------------------------
def _csv(rows, header="x1,x2,label"):
    lines = ([header] if header else []) + [",".join(map(str, r)) for r in rows]
    return "\n".join(lines).encode()


GOOD_ROWS = [(np.cos(t), np.sin(t), int(t > 3)) for t in np.linspace(0, 6, 40)]

BAD_UPLOADS = [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\xff\xfe\x00\x01garbage" * 10, "not UTF-8"),
    (b"x1,x2,label\n1,2,\x003\n" * 20, "NUL"),
    (_csv([(1, 2)] * 20, header="a,b"), "expected 3"),
    (_csv([(1, 2, 0, 4)] * 20), "expected 3"),
    (_csv([(1, "abc", 0)] + GOOD_ROWS), "'abc' is not a number"),
    (_csv([(1, "nan", 0)] + GOOD_ROWS), "not a finite number"),
    (_csv([(1, "1e400", 0)] + GOOD_ROWS), "not a finite number"),
    (_csv(GOOD_ROWS[:5]), "at least 10"),
    (_csv([(0, 0, 0)] * 6000), "the limit is 5,000"),
    (_csv([(i, 1, i % 2) for i in range(20)]), "same value on every row"),
    (_csv([(i, i * i % 7, 7) for i in range(20)]), "labels must be 0-3"),
    (_csv([(i, i * i % 7, 1) for i in range(20)]), "only class 1"),
    (_csv([(i, i * i % 7, (i % 2) * 2) for i in range(20)]), "label 1 is missing"),
    (_csv([(i, i * i % 7, i / 3) for i in range(20)]), "non-integer"),
    (b"x1,x2,label\n" + b'"1,2,3\n' * 20, "column"),
]


@pytest.mark.parametrize("raw, expected", BAD_UPLOADS)
def test_malformed_uploads_are_refused_with_a_message(client, raw, expected):
    sid, state = new(client)
    message = error(client.post(f"/api/sessions/{sid}/upload?problem=classification", content=raw, headers=CSV))
    assert expected in message
    after = client.get(f"/api/sessions/{sid}/state").json()
    assert after["config"] == state["config"] and after["version"] == state["version"]


def test_upload_size_is_capped(client):
    sid, _ = new(client)
    assert "limit" in error(client.post(f"/api/sessions/{sid}/upload", content=b"1,2,0\n" * 200_000, headers=CSV), 413)
    assert "problem must be" in error(client.post(f"/api/sessions/{sid}/upload?problem=both", content=_csv(GOOD_ROWS), headers=CSV))


def test_random_bytes_never_crash_the_upload(client):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    sid, _ = new(client)

    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True)
    @hypothesis.given(st.one_of(st.binary(max_size=300), st.text(alphabet="0123456789.,;-e\n\t x\"", max_size=300).map(str.encode)))
    def check(raw):
        r = client.post(f"/api/sessions/{sid}/upload", content=raw, headers=CSV)
        assert r.status_code in (200, 400), r.text
        assert "error" in r.json() or "upload" in r.json()

    check()
    assert client.get(f"/api/sessions/{sid}/state").status_code == 200


def test_uploaded_csv_trains_as_classification_and_regression(client):
    rng = np.random.default_rng(0)
    labels = np.arange(120) % 3
    centres = np.array([[-1.5, -1.0], [1.5, -1.0], [0.0, 1.5]])
    X = (centres[labels] + rng.normal(0, 0.4, (120, 2))) * [10, 0.1] + [50, -3]  # scales far apart
    sid, _ = new(client, loss="hinge")
    raw = _csv([(a, b, c) for (a, b), c in zip(X, labels)], header="temp;pressure;cls").replace(b",", b";")
    r = client.post(f"/api/sessions/{sid}/upload?problem=classification&filename=lab.csv", content=raw, headers=CSV)
    assert r.status_code == 200, r.text
    summary, state = r.json()["upload"], r.json()["state"]
    assert summary["rows"] == 120 and summary["header"] == ["temp", "pressure", "cls"]
    assert state["config"]["dataset"] == "csv" and state["task"] == "multiclass" and state["classes"] == 3
    assert state["config"]["loss"] == "cross_entropy"  # hinge cannot take 3 classes
    points = client.get(f"/api/sessions/{sid}/data").json()
    xs = np.array(points["train"]["x"] + points["test"]["x"])
    assert np.allclose(xs.mean(axis=0), 0, atol=1e-3) and np.allclose(xs.std(axis=0), 1, atol=1e-3)
    for _ in range(40):
        state = client.post(f"/api/sessions/{sid}/step").json()
    assert state["last"]["test_metric"] > 0.8
    # a loss given that does not fit is refused; one not given becomes the data's default
    assert "mse" in error(client.put(f"/api/sessions/{sid}/config", json={"problem": "regression", "loss": "bce"}))
    state = client.put(f"/api/sessions/{sid}/config", json={"problem": "regression"}).json()
    assert state["task"] == "regression" and state["metric"] == "r2" and state["config"]["loss"] == "mse"


def test_the_csv_is_read_again_as_it_was_uploaded(client):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    sid, _ = new(client)
    raw = _csv([(a, b, round(np.sin(a) + 0.3 * b, 4)) for a, b in X])  # real-valued targets
    r = client.post(f"/api/sessions/{sid}/upload?problem=regression", content=raw, headers=CSV)
    assert r.status_code == 200, r.text
    assert r.json()["upload"]["problem"] == "regression" and r.json()["state"]["task"] == "regression"
    state = client.put(f"/api/sessions/{sid}/config", json={"dataset": "circle", "loss": "bce"}).json()
    assert state["config"]["problem"] == "classification"
    state = client.put(f"/api/sessions/{sid}/config", json={"dataset": "csv"}).json()
    assert state["task"] == "regression" and state["config"]["problem"] == "regression" and state["config"]["loss"] == "mse"


def test_upload_line_endings_and_extreme_values(client):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    old_mac = "\r".join(f"{a},{b},{c}" for (a, b), c in zip(X, y)).encode()
    windows = old_mac.replace(b"\r", b"\r\n")
    for raw in (old_mac, windows):
        assert parse_csv(raw).X.shape == (50, 2)
    for scale in (1e300, 1e-300):  # squares of these overflow or vanish: standardised all the same
        upload = parse_csv("\n".join(f"{a * scale},{b},{c}" for (a, b), c in zip(X, y)).encode())
        assert np.allclose(upload.X.mean(axis=0), 0) and np.allclose(upload.X.std(axis=0), 1)
        assert np.allclose(upload.X[:, 0], (X[:, 0] - X[:, 0].mean()) / X[:, 0].std())
    sid, _ = new(client)
    huge = "\n".join(f"{a},{b},{a * 1e300}" for a, b in X).encode()
    message = error(client.post(f"/api/sessions/{sid}/upload?problem=regression", content=huge, headers=CSV))
    assert "column 3" in message and "too large" in message


# -- explain -------------------------------------------------------------------------------------------
def _forward(layers, x, acts):
    fns = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
           "linear": lambda z: z, "xtanh": lambda z: z * np.tanh(z)}
    a = x
    for i, (W, b) in enumerate(layers):
        a = W @ a + b
        if i < len(acts):
            a = fns[acts[i]](a)
    return a


@pytest.mark.parametrize("loss, acts", [("bce", ["tanh", "sigmoid"]), ("hinge", ["xtanh", "relu"]), ("mse", ["relu", "linear"])])
def test_explain_trace_matches_an_independent_computation(client, loss, acts):
    sid, state = new(client, dataset="xor", layers="3,2", act=",".join(acts), loss=loss, lr=0.3, features="x1,x2,x1x2")
    trace = client.post(f"/api/sessions/{sid}/explain", json={"split": "train", "index": 5}).json()
    layers = [(np.array(layer["W"]), np.array(layer["b"])) for layer in state["network"]["layers"]]
    x = np.array(list(trace["point"]["features"].values()))
    coords = np.array(trace["point"]["coords"])
    assert np.allclose(x, feature_matrix(coords[None, :], ["x1", "x2", "x1x2"])[0], atol=1e-3)
    assert trace["schema"] == "chainrule.explain/1"  # chainrule.inspect.explain's trace, as documented
    target = np.ravel(trace["y"])

    def loss_of(params):
        out = _forward(params, x, acts)[0]
        if loss == "bce":
            return np.logaddexp(0, out) - target[0] * out
        if loss == "hinge":
            return max(0.0, 1 - target[0] * out)
        return (out - target[0]) ** 2

    layers = [(np.array(step["W"]), np.array(step["b"])) for step in trace["layers"]]  # the 4-decimal state is rounded
    assert trace["loss"]["value"] == pytest.approx(loss_of(layers), rel=1e-9)
    eps = 1e-6
    for li, step in enumerate(trace["layers"]):
        W = layers[li][0]
        numeric = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            plus = [(w.copy(), b) for w, b in layers]
            minus = [(w.copy(), b) for w, b in layers]
            plus[li][0][idx] += eps
            minus[li][0][idx] -= eps
            numeric[idx] = (loss_of(plus) - loss_of(minus)) / (2 * eps)
        assert np.allclose(step["dW"], numeric, atol=1e-6)
        assert np.allclose(step["W_new"], W - 0.3 * np.array(step["dW"]), atol=1e-7)
        assert np.allclose(step["Z"][0], layers[li][0] @ np.array(step["A_prev"][0]) + layers[li][1], atol=1e-12)
        assert step["equations"]["dW"] == f"dW[{li + 1}] = dZ[{li + 1}]ᵀ A[{li}]"
    assert trace["layers"][0]["A_prev"][0] == pytest.approx(list(x), abs=1e-12)
    assert [step["activation"] for step in trace["layers"]] == [a if a != "linear" else "identity" for a in acts] + ["identity"]
    # explaining changes nothing
    assert client.get(f"/api/sessions/{sid}/state").json()["network"] == state["network"]


def test_explain_bounds(client):
    sid, _ = new(client)
    assert "point index must be 0.." in error(client.post(f"/api/sessions/{sid}/explain", json={"split": "train", "index": 10**6}))
    assert "split must be" in error(client.post(f"/api/sessions/{sid}/explain", json={"split": "all", "index": 0}))
    assert "point index" in error(client.post(f"/api/sessions/{sid}/explain", json={"split": "test", "index": "1"}))
    r = client.put(f"/api/sessions/{sid}/config", json={"opt": "adam", "reg": "l2", "rate": 0.1})
    trace = client.post(f"/api/sessions/{sid}/explain", json={"split": "test", "index": 0}).json()
    assert "adam" in trace["note"] and trace["update_rule"].startswith("W[l] ← W[l] − α (dW[l] + 0.1 W[l])")
    assert trace["l2"] == 0.1 and trace["l1"] == 0.0
    W, dW, W_new = (np.array(trace["layers"][0][k]) for k in ("W", "dW", "W_new"))
    assert np.allclose(W_new, W - 0.03 * (dW + 0.1 * W))
    assert r.status_code == 200


# -- the data generators ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_seeded_bounded_and_split(name):
    features = "x1" if name == "sine" else "x1,x2"
    loss = "mse" if name == "sine" else "cross_entropy"
    config = parse_config({"dataset": name, "classes": 3, "noise": 20, "ratio": 70, "points": 300, "seed": 5,
                           "features": features, "loss": loss})
    a, b = generate(config), generate(config)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert a.X_train.shape[0] == 210 and a.X_test.shape[0] == 90
    c = generate(parse_config({"seed": 6}, base=config))
    assert not np.array_equal(a.X_train, c.X_train)
    if name != "sine":
        X = np.vstack([a.X_train, a.X_test])
        assert np.abs(X).max() < 9
        y = np.concatenate([a.y_train, a.y_test])
        expected = 3 if name in ("gauss", "spiral") else 2
        assert sorted(set(y.tolist())) == list(range(expected))
        assert np.bincount(y).min() > 300 / expected * 0.6  # roughly balanced


def test_seed_000_linear_data_is_the_lecture_data():
    from chainrule.datasets import lecture_linear

    data = generate(parse_config({"dataset": "linear", "noise": 0, "points": 500, "seed": 42}))
    X, y, _ = lecture_linear(500, seed=42)
    got = np.vstack([data.X_train, data.X_test])
    order = np.lexsort(got.T), np.lexsort(X.T)
    assert np.allclose(got[order[0]], X[order[1]])
    assert np.array_equal(np.concatenate([data.y_train, data.y_test])[order[0]], y[order[1]])


def test_parse_csv_directly():
    upload = parse_csv(_csv(GOOD_ROWS, header=None).replace(b",", b"\t"))
    assert upload.X.shape == (40, 2) and upload.header is None
    data = upload.to_data("classification", 50, 0)
    assert data.task == "binary" and data.X_train.shape == (20, 2)
    labels_pm = parse_csv(_csv([(a, b, 1 if c else -1) for a, b, c in GOOD_ROWS])).to_data("classification", 50, 0)
    assert set(np.concatenate([labels_pm.y_train, labels_pm.y_test]).tolist()) == {0, 1}


# -- the command ---------------------------------------------------------------------------------------
def test_cli_defaults_to_localhost_and_checks_the_port(capsys):
    from chainrule.cli import build_parser, main

    args = build_parser().parse_args(["playground"])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 8000, False)
    assert main(["playground", "--port", "70000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "chainrule: error: --port must be between 1 and 65535, got 70000"
    assert main(["playground", "--port", "http"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_numbers_too_large_for_a_float_get_a_message_not_a_server_error(client):
    huge = 10 ** 400
    for key in ("seed", "points", "batch", "lr"):
        assert f"{key} must be between" in error(client.post("/api/sessions", json={"config": {key: huge}}))
        assert f"{key} must be between" in error(client.post("/api/sessions", json={"config": {key: str(huge)}}))
    assert "seed must be between" in error(client.get(f"/api/preview?dataset=circle&seed={huge}"))
    sid, _ = new(client)
    assert "must be between" in error(client.put(f"/api/sessions/{sid}/weight",
                                                 json={"layer": 0, "kind": "W", "row": 0, "col": 0, "value": huge}))
    assert client.get(f"/api/sessions/{sid}/state").status_code == 200  # the server carries on


def test_the_output_map_draws_the_class_the_network_predicts():
    # MSE on several classes: outputs can all be negative or exceed 1; the map's class must
    # still be the predicted one (the largest raw output), as the accuracy counts it
    import chainrule as cr
    from chainrule.playground.model import decide, output_scores

    net = cr.Sequential([cr.Dense.from_arrays(np.eye(3))])
    net.loss = cr.losses.get_loss("mse")
    points = np.array([[-0.05, -0.007, -0.139], [1.4, 1.2, 0.3], [0.2, 0.9, 0.1]])
    shown = output_scores(net, "mse", "multiclass", points)
    np.testing.assert_array_equal(shown["label"], decide("mse", points))
    np.testing.assert_array_equal(shown["label"], [1, 0, 1])
    np.testing.assert_allclose(shown["confidence"], [0.0, 1.0, 0.9])


@pytest.mark.parametrize("dataset", sorted(GENERATORS))
def test_every_point_lies_inside_the_plot_even_at_the_highest_noise(dataset):
    for noise in (0, 50):
        data = generate(parse_config({"dataset": dataset, "noise": noise, "points": 500, "seed": 3}))
        x0, x1, y0, y1 = data.extent
        for X, y in ((data.X_train, data.y_train), (data.X_test, data.y_test)):
            vertical = y if data.task == "regression" else X[:, 1]
            assert (x0 <= X[:, 0]).all() and (X[:, 0] <= x1).all()
            assert (y0 <= vertical).all() and (vertical <= y1).all()
        if noise == 0 and dataset not in ("linear", "sine"):
            assert data.extent == (-6.0, 6.0, -6.0, 6.0)  # the usual plane when everything fits


def test_the_divergence_message_gives_the_kept_weights_loss_and_the_runs_lowest():
    # Adam trains well, then a learning rate of 10 blows the loss up by steps that stay under
    # the growth test until it overflows: the kept weights are poor, and the message says so
    session = _diverge({"dataset": "circle", "layers": "8", "act": "xtanh", "opt": "adam", "lr": 0.03}, [1] * 20)
    assert session.status == "paused"
    session.apply({"lr": 10})
    for _ in range(60):
        if not session._train(1):
            break
    assert session.status == "diverged"
    kept_loss = session.history[-1][1]
    lowest_loss, lowest_epoch = session._watch.lowest
    message = session.message
    # the lowest is the chart's own number: stepping one epoch at a time records every epoch
    charted = {row[0]: row[1] for row in _diverge({"dataset": "circle", "layers": "8", "act": "xtanh",
                                                     "opt": "adam", "lr": 0.03}, [1] * 20).history}
    assert lowest_epoch <= 20 and lowest_loss == pytest.approx(charted[lowest_epoch], rel=1e-12)
    assert lowest_loss == pytest.approx(min(charted.values()), rel=1e-12)
    assert f"the weights after epoch {session.epoch}, the last ones the divergence check accepted" in message
    assert f"(training loss {kept_loss:.4g}" in message
    if kept_loss > 2 * lowest_loss:
        assert f"this run's lowest was {lowest_loss:.4g}, after epoch {lowest_epoch}" in message
        assert lowest_epoch > 10 and lowest_loss < 0.1 < kept_loss  # the good epochs before the rise
    assert "not growing without bound" not in message


def test_the_runs_lowest_counts_the_starting_weights():
    # full-batch SGD at a rate that ruins the starting weights' loss at once: the lowest is theirs
    session = _diverge({"dataset": "sine", "features": "x1", "layers": "8", "act": "relu", "lr": 0.3,
                        "batch": 1000}, [1] * 200)
    assert session._watch.lowest[1] == 0
    assert session._watch.lowest[0] == pytest.approx(
        [row[1] for row in _diverge({"dataset": "sine", "features": "x1", "layers": "8", "act": "relu",
                                     "lr": 0.3, "batch": 1000}, []).history][0], rel=1e-12)
    if session.status == "diverged" and session.history[-1][1] > 2 * session._watch.lowest[0]:
        assert "this run's lowest was" in session.message and "its starting weights" in session.message
