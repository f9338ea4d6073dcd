"""playground as the CLI audit found it: a port in use or an address not of this machine is one
line, before any banner; the server gets the socket it was checked on."""

import socket

import pytest

from chainrule.cli import main
from conftest import one_line_error

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")


@pytest.fixture
def busy_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def test_a_port_in_use_is_one_line_without_a_banner(busy_port, capsys):
    err = one_line_error(["playground", "--port", str(busy_port)], capsys)
    assert err.startswith(f"chainrule: error: --port {busy_port}: port {busy_port} on 127.0.0.1 is already in use")
    assert "http://" not in err


def test_an_address_not_of_this_machine_is_one_line(capsys):
    err = one_line_error(["playground", "--host", "192.0.2.1"], capsys)  # TEST-NET-1: never assigned
    assert "chainrule: error: --host 192.0.2.1: not an address of this machine" in err


def test_the_server_runs_on_the_socket_checked_before_the_banner(monkeypatch, capsys):
    import chainrule.playground

    served = {}

    def serve(host, port, open_browser, sock):
        served.update(address=sock.getsockname(), banner=capsys.readouterr().err)
        sock.close()

    monkeypatch.setattr(chainrule.playground, "serve", serve)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    assert main(["playground", "--port", str(port)]) == 0
    assert served["address"] == ("127.0.0.1", port)
    assert served["banner"] == f"chainrule playground: http://127.0.0.1:{port}/  (Ctrl-C to stop)\n"
