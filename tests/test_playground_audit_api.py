"""The playground server against the audit's findings: requests from other sites, the Host
names it answers to, numbers too long to read, CSV line numbers, huge class labels, and the
divergence message after a weight edit."""

from __future__ import annotations

import socket

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.testclient import TestClient

from chainrule.playground import create_app, server
from chainrule.playground.datasets import classification_error, parse_csv
from chainrule.playground.server import LOCAL_HOSTS, allowed_hosts_for

TEST_HOSTS = [*LOCAL_HOSTS, "testserver"]  # the test client's Host, given here and never by the server itself
CSV = {"content-type": "text/csv"}
EVIL = "https://evil.example"
GOOD = "x1,x2,label\n" + "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(20))


@pytest.fixture
def client():
    with TestClient(create_app(max_sessions=4, allowed_hosts=TEST_HOSTS)) as c:
        yield c


def new(client):
    r = client.post("/api/sessions", json={"config": {}})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def error(response, status):
    assert response.status_code == status, response.text
    return response.json()["error"]


# -- requests from other sites (finding 1) ---------------------------------------------------------
def test_a_cross_site_page_cannot_create_sessions_until_the_user_is_locked_out(client):
    store = client.app.state.store
    for _ in range(10):  # more than max_sessions: without the check, the 5th would be a 503
        r = client.post("/api/sessions", content=b'{"config": {}}',
                        headers={"content-type": "text/plain", "origin": EVIL})
        assert "another site" in error(r, 403) and "evil.example" in r.json()["error"]
    assert len(store) == 0
    assert new(client)  # the user's own tab still opens


@pytest.mark.parametrize("method, path, kwargs", [
    ("post", "/api/sessions", {"json": {"config": {}}}),
    ("put", "/config", {"json": {"lr": 0.1}}),
    ("post", "/play", {}),
    ("post", "/close", {}),
    ("put", "/weight", {"json": {"layer": 1, "kind": "W", "row": 0, "col": 0, "value": 1}}),
    ("post", "/upload", {"content": GOOD.encode(), "headers": CSV}),
])
def test_every_state_changing_request_from_another_site_is_refused(client, method, path, kwargs):
    sid = new(client)
    url = path if path.startswith("/api") else f"/api/sessions/{sid}{path}"
    before = client.get(f"/api/sessions/{sid}/state").json()
    for headers in ({"origin": EVIL}, {"origin": "null"}, {"origin": "http://testserver.evil.example"},
                    {"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"},
                    {"origin": "http://testserver", "sec-fetch-site": "cross-site"}):
        r = getattr(client, method)(url, **{**kwargs, "headers": {**kwargs.get("headers", {}), **headers}})
        assert "another site" in error(r, 403), headers
    after = client.get(f"/api/sessions/{sid}/state").json()
    assert after["version"] == before["version"] and after["status"] == "paused"
    # the page's own requests (same origin, as a browser sends them) go through
    own = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    r = getattr(client, method)(url, **{**kwargs, "headers": {**kwargs.get("headers", {}), **own}})
    assert r.status_code == 200, r.text


def test_bodies_must_declare_their_type(client):
    sid = new(client)
    # text/plain and form bodies are what any page may send without asking the server
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"content-type": kind} if kind else {}
        r = client.put(f"/api/sessions/{sid}/config", content=b'{"lr": 0.1}', headers=headers)
        assert "Content-Type application/json" in error(r, 415)
        r = client.post(f"/api/sessions/{sid}/upload", content=GOOD.encode(), headers=headers)
        assert "Content-Type text/csv" in error(r, 415)
    assert client.get(f"/api/sessions/{sid}/state").json()["config"]["lr"] == 0.03
    r = client.put(f"/api/sessions/{sid}/config", content=b'{"lr": 0.1}',
                   headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 200 and r.json()["config"]["lr"] == 0.1
    assert client.post(f"/api/sessions/{sid}/upload", content=GOOD.encode(), headers=CSV).status_code == 200


def test_no_page_may_frame_the_playground(client):
    sid = new(client)
    for r in (client.get("/"), client.get("/api/options"), client.get(f"/api/sessions/{sid}/state"),
              client.get("/static/app.js"), client.post("/api/sessions", json={}, headers={"origin": EVIL}),
              client.get(f"/api/sessions/{sid}/events?max_events=1")):
        assert r.headers["content-security-policy"] == "frame-ancestors 'none'", r.url
        assert r.headers["x-frame-options"] == "DENY", r.url


# -- the Host names the server answers to (finding 8) -------------------------------------------------
def test_the_default_app_answers_only_to_loopback_names():
    with TestClient(create_app()) as c:  # "testserver" is the test client's name, not a local one
        assert c.get("/api/options").status_code == 400
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000"):
        with TestClient(create_app(), base_url=f"http://{host}") as c:
            assert c.get("/api/options").status_code == 200, host
    assert "testserver" not in LOCAL_HOSTS


def test_a_server_on_another_address_still_checks_the_host():
    names = allowed_hosts_for("0.0.0.0")
    assert "*" not in names and "testserver" not in names
    assert socket.gethostname().lower() in names and "localhost" in names
    assert "192.168.1.20" in allowed_hosts_for("192.168.1.20")
    assert allowed_hosts_for("127.0.0.1") == LOCAL_HOSTS
    app = create_app(allowed_hosts=names, allow_addresses=True)
    for host, status in [("evil.example", 400), ("evil.example:8000", 400), ("rebind.attacker.test", 400),
                         ("testserver", 400), (f"{socket.gethostname()}:8000", 200), ("192.168.1.20:8000", 200),
                         ("[fe80::1]:8000", 200), ("localhost", 200)]:
        with TestClient(app, base_url=f"http://{host}") as c:
            assert c.get("/api/options").status_code == status, host


def test_serve_gives_the_app_the_hosts_of_its_address(monkeypatch):
    uvicorn = pytest.importorskip("uvicorn")
    made = []
    real = server.create_app
    monkeypatch.setattr(server, "create_app", lambda **kw: made.append(kw) or real(**kw))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    server.serve(host="0.0.0.0", port=8123)
    server.serve(host="127.0.0.1", port=8123)
    assert made[0] == {"allowed_hosts": allowed_hosts_for("0.0.0.0"), "allow_addresses": True}
    assert made[1] == {"allowed_hosts": LOCAL_HOSTS, "allow_addresses": False}


# -- numbers too long to read (finding 11) ---------------------------------------------------------
def test_a_number_with_thousands_of_digits_is_named_with_its_field(client):
    long = "9" * 5000
    for body in ('{"config": {"seed": %s}}' % long, '{"config": {"seed": -%s}}' % long):
        message = error(client.post("/api/sessions", content=body, headers={"content-type": "application/json"}), 400)
        assert message.startswith("seed: a number with 5,000 digits") and "set_int_max_str_digits" not in message
    sid = new(client)
    r = client.put(f"/api/sessions/{sid}/weight", content='{"layer": 1, "kind": "W", "row": 0, "col": 0, "value": %s}'
                   % long, headers={"content-type": "application/json"})
    assert error(r, 400).startswith("value: a number with 5,000 digits")
    r = client.put(f"/api/sessions/{sid}/config", content="[%s]" % long, headers={"content-type": "application/json"})
    assert error(r, 400).startswith("a number with 5,000 digits")
    assert client.get(f"/api/sessions/{sid}/state").status_code == 200


# -- CSV line numbers (finding 6) and huge labels (finding 9) --------------------------------------------
ROWS = "".join(f"{i},{(i * 3) % 7},{i % 2}\n" for i in range(12))


@pytest.mark.parametrize("text, line", [
    ("x1,x2,label\n\n\n" + ROWS + "\n1,2,zz\n", 17),          # blank lines before and among the rows
    ('"x\n1",x2,label\n' + ROWS + "1,2\n", 15),                # a header cell with a newline in quotes
    ("\n\n" + ROWS + '"1\n",2,0\n3,4\n', 17),                  # a data cell with a newline, then a short row
    (ROWS.replace("\n", "\r\n") + "\r\n\r\n1,oops,1\r\n", 15),  # Windows line endings
    ("\n" + ROWS + "\n\n5,6,1e300\n", 16),                     # the too-large target, after blank lines
])
def test_csv_errors_name_the_files_own_line(client, text, line):
    with pytest.raises(ValueError, match=rf"^line {line}\b"):
        parse_csv(text.encode())
    sid = new(client)
    r = client.post(f"/api/sessions/{sid}/upload?problem=regression", content=text.encode(), headers=CSV)
    assert error(r, 400).startswith(f"line {line}")


def test_huge_class_labels_are_reported_as_they_are():
    for labels, shown in [([0, 1, 1e20], "from 0 to 1e+20"), ([-1e30, 0, 1], "from -1e+30 to 1"),
                          ([0, 1, 2**63], "from 0 to 9.22337e+18"), ([0, 5], "from 0 to 5"), ([-2, 0], "from -2 to 0")]:
        message = classification_error(np.array(labels, dtype=float))
        assert message and shown in message and "-9223372036854775808" not in message, labels
    assert classification_error(np.array([-1.0, 1.0])) is None
    assert classification_error(np.array([0.0, 1.0, 2.0, 3.0])) is None


def test_uploading_huge_labels_as_classes_is_refused_plainly(client):
    sid = new(client)
    text = "".join(f"{i},{(i * 3) % 7},{1e20 if i == 4 else i % 2}\n" for i in range(12))
    message = error(client.post(f"/api/sessions/{sid}/upload?problem=classification", content=text.encode(),
                                headers=CSV), 400)
    assert "labels from 0 to 1e+20" in message


# -- the divergence message after a weight edit (finding 12) -----------------------------------------------
def test_a_weight_edit_while_diverged_updates_the_message(client):
    r = client.post("/api/sessions", json={"config": {"dataset": "circle", "layers": "8,8", "act": "relu,relu",
                                                      "loss": "mse", "lr": 10}})
    sid = r.json()["id"]
    for _ in range(30):
        if client.post(f"/api/sessions/{sid}/step").status_code != 200:
            break
    diverged = client.get(f"/api/sessions/{sid}/state").json()
    assert diverged["status"] == "diverged"
    old_loss = diverged["last"]["train_loss"]
    assert f"(training loss {old_loss:.4g}" in diverged["message"]
    edited = client.put(f"/api/sessions/{sid}/weight",
                        json={"layer": 3, "kind": "b", "row": 0, "value": 50}).json()
    new_loss = edited["last"]["train_loss"]
    assert new_loss != pytest.approx(old_loss, rel=1e-3)
    assert edited["status"] == "diverged"
    message = edited["message"]
    assert message.startswith(diverged["message"].split(" The network")[0])  # the same divergence
    assert f"the weights as you edited them (epoch {edited['epoch']}) (training loss {new_loss:.4g})" in message
    assert f"{old_loss:.4g}" not in message and "lower the learning rate" in message
