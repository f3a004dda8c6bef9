"""The lab's guards over HTTP: run files only from inside the runs directory, tokens, POST rules, body limits."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")
pytest.importorskip("uvicorn", reason="the lab needs the [lab] extra (starlette, uvicorn)")

from starlette.testclient import TestClient  # noqa: E402  (after the skip)

from mnistlab.lab.server import lab_url
from mnistlab.lab import create_app
from mnistlab.lab.security import inside, is_loopback, loopback_host_header, same_origin

ORIGIN = {"Origin": "http://127.0.0.1:8765"}


def test_a_run_file_is_served_with_a_sandbox(lab_client, lab_runs):
    run = lab_runs["mlp"].name
    response = lab_client.get(f"/runs/{run}/config.json")
    assert response.status_code == 200 and response.json()["train_size"] == 10000
    assert response.headers["content-security-policy"] == "sandbox"
    assert lab_client.get(f"/runs/{run}/curves.png").content.startswith(b"\x89PNG")


@pytest.mark.parametrize("path", [
    "/runs/{run}/../../../../etc/passwd",
    "/runs/{run}/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/runs/{run}/%2E%2E%2F%2E%2E%2Fsecret.txt",
    "/runs/{run}/..%2f..%2fsecret.txt",
    "/runs/{run}//etc/passwd",
    "/runs/{run}/%2Fetc%2Fpasswd",
    "/runs/%2e%2e/secret.txt",
    "/runs/../secret.txt",
    "/runs/{run}/.hidden",
    "/runs/{run}/no-such-file.txt",
    "/runs/no-such-run/config.json",
])
def test_paths_out_of_the_runs_directory_are_not_found(lab_client, lab_runs, path):
    (lab_runs["dir"].parent / "secret.txt").write_text("secret")
    (lab_runs["mlp"] / ".hidden").write_text("hidden")
    url = path.format(run=lab_runs["mlp"].name)
    response = _raw_get(lab_client, url)
    assert response.status_code == 404, url
    assert b"secret" not in response.content and b"root:" not in response.content


def _raw_get(client: TestClient, url: str):
    """GET `url` exactly as written (httpx would otherwise normalise the dot segments away)."""
    import httpx

    request = client.build_request("GET", "http://127.0.0.1:8765/")
    request.url = httpx.URL(request.url, raw_path=url.encode())
    return client.send(request)


@pytest.mark.parametrize("path", ["/runs/{run}/../../secret.txt", "/runs/{run}/../{run}/config.json",
                                  "/runs/{run}/%2e%2e/%2e%2e/secret.txt", "/runs/{run}/%2fetc%2fpasswd",
                                  "/runs/..%2fsecret.txt"])
def test_a_real_server_refuses_raw_traversal_paths(lab_server, lab_runs, path):
    """Through uvicorn, paths reach the app exactly as sent (no client normalises the dots away)."""
    import http.client

    (lab_runs["dir"].parent / "secret.txt").write_text("secret")
    host, port = lab_server.url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path.format(run=lab_runs["mlp"].name))
        response = connection.getresponse()
        assert response.status == 404 and b"secret" not in response.read()
    finally:
        connection.close()


def test_symlinks_pointing_out_are_not_followed(lab_client, lab_runs, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    link = lab_runs["mlp"] / "escape.txt"
    link.unlink(missing_ok=True)
    link.symlink_to(outside)
    run_link = lab_runs["dir"] / "linked-run"
    if not run_link.exists():
        (tmp_path / "foreign").mkdir()
        (tmp_path / "foreign" / "run.json").write_text('{"kind": "mlp"}')
        run_link.symlink_to(tmp_path / "foreign")
    try:
        assert lab_client.get(f"/runs/{lab_runs['mlp'].name}/escape.txt").status_code == 404
        assert lab_client.get("/runs/linked-run/run.json").status_code == 404
        assert lab_client.get("/api/runs/linked-run").status_code == 404
    finally:
        link.unlink()
        run_link.unlink()


def test_inside_accepts_only_paths_below_the_root(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("x")
    assert inside(tmp_path, "a", "f.txt") == (tmp_path / "a" / "f.txt").resolve()
    assert inside(tmp_path / "a", "..", "a", "f.txt") is None  # any ".." is refused, even one leading back inside
    assert inside(tmp_path / "a", "..") is None
    assert inside(tmp_path, "/etc/passwd") is None
    assert inside(tmp_path, "missing") is None


def test_a_token_is_required_on_every_route_when_set(lab_runs):
    app = create_app(lab_runs["dir"], token="s3cret")
    with TestClient(app, base_url="http://10.0.0.5:8765") as client:
        for path in ("/", "/api/runs", f"/api/runs/{lab_runs['mlp'].name}", "/static/main.js",
                     f"/runs/{lab_runs['mlp'].name}/config.json", "/api/events?max_events=1"):
            assert client.get(path).status_code == 403, path
        assert client.get("/api/runs?token=wrong").status_code == 403
        assert client.get("/api/runs", headers={"X-Lab-Token": "s3cret"}).status_code == 200
        page = client.get("/?token=s3cret")
        assert page.status_code == 200 and "mnistlab_lab_token=s3cret" in page.headers["set-cookie"]
        assert "HttpOnly" in page.headers["set-cookie"] and "SameSite=Strict" in page.headers["set-cookie"]
        assert client.get("/api/runs").status_code == 200  # the cookie set by the page now carries the token


@pytest.mark.parametrize("host", ["evil.example:8765", "evil.example", "192.168.1.4:8765", ""])
def test_without_a_token_only_loopback_host_headers_are_served(lab_runs, host):
    """DNS rebinding: a foreign page pointing its name at 127.0.0.1 still sends its own name as Host."""
    with TestClient(create_app(lab_runs["dir"]), base_url="http://127.0.0.1:8765") as client:
        response = client.get("/api/runs", headers={"Host": host})
        assert response.status_code == 403 and "127.0.0.1" in response.json()["error"]
        for good in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "localhost"):
            assert client.get("/api/runs", headers={"Host": good}).status_code == 200, good


def test_loopback_host_header_parsing():
    assert loopback_host_header({"host": "127.0.0.1:1"}) and loopback_host_header({"host": "[::1]:80"})
    assert not loopback_host_header({"host": "127.0.0.1.evil.example:80"}) and not loopback_host_header({})


def test_the_cli_asks_for_a_token_off_loopback_only():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.org")
    assert lab_url("0.0.0.0", 8765, "abc") == "http://0.0.0.0:8765/?token=abc"
    assert lab_url("127.0.0.1", 8765, None) == "http://127.0.0.1:8765/"


@pytest.mark.parametrize("path", ["/api/train", "/api/predict", "/api/jobs/1/stop"])
def test_state_changing_routes_take_post_only(lab_client, path):
    assert lab_client.get(path).status_code == 405


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Referer": "http://evil.example/page"}, {"Origin": "http://127.0.0.1:9999"}])
def test_posts_from_another_origin_are_refused(lab_runs, headers):
    with TestClient(create_app(lab_runs["dir"]), base_url="http://127.0.0.1:8765") as client:
        response = client.post("/api/train", json={"kind": "mlp", "epochs": 1}, headers=headers)
        assert response.status_code == 403 and "cross-origin" in response.json()["error"]
        assert client.app.state.lab.jobs.list() == []  # nothing was started


def test_same_origin_reads_origin_then_referer():
    assert same_origin({"host": "127.0.0.1:8765", "origin": "http://127.0.0.1:8765"})
    assert same_origin({"host": "127.0.0.1:8765", "referer": "http://127.0.0.1:8765/#/draw"})
    assert not same_origin({"host": "127.0.0.1:8765", "referer": "http://127.0.0.1:8766/"})
    assert not same_origin({"host": "127.0.0.1:8765"})


def test_request_bodies_are_bounded(lab_runs):
    app = create_app(lab_runs["dir"], max_body=10_000)
    with TestClient(app, base_url="http://127.0.0.1:8765", headers=ORIGIN) as client:
        big = {"image": [[0] * 100] * 100, "runs": [lab_runs["mlp"].name]}
        response = client.post("/api/predict", json=big)
        assert response.status_code == 413 and "too large" in response.json()["error"]
        chunked = client.post("/api/predict", content=iter([b"{" + b" " * 6000, b" " * 6000 + b"}"]),
                              headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413
        small = client.post("/api/predict", json={"image": [[0] * 28] * 28, "runs": [lab_runs["mlp"].name]})
        assert small.status_code == 200
