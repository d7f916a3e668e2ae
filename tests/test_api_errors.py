"""Every error path of the REST service answers ``{"error": {code, message, detail}}`` with the
right status: keys and scopes, rate limits, uploads that are too big, bombs, garbage, bad params."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from detector.store.keys import create_key, revoke_key
from tests.factories import render
from tests.live import Service, service, settings_for
from tests.test_detect import hand_made

READ_ROUTES = [("GET", "/v1/campaigns"), ("GET", "/v1/campaigns/C1"),
               ("GET", "/v1/campaigns/C1/graph"), ("GET", "/v1/accounts"),
               ("GET", "/v1/accounts/twitter/1"), ("GET", "/v1/datasets"),
               ("GET", "/v1/datasets/1"), ("GET", "/v1/jobs"), ("GET", "/v1/jobs/1"),
               ("POST", "/v1/lookup")]
ALL_ROUTES = [*READ_ROUTES, ("POST", "/v1/datasets"), ("DELETE", "/v1/datasets/1")]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Service]:
    settings = settings_for(f"sqlite:///{tmp_path / 'cib.db'}", tmp_path, max_upload_bytes=200_000,
                            max_ratio=50.0)
    with service(settings) as running:
        yield running


def error_of(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code, body
    assert "Traceback" not in answer.text
    return dict(body["error"])


def call(api: Service, method: str, path: str, headers: dict[str, str]) -> Any:
    body = {"json": {"text": "hello there general kenobi"}} if path == "/v1/lookup" else {}
    return api.client.request(method, path, headers=headers, **body)


@pytest.mark.parametrize(("method", "path"), ALL_ROUTES)
def test_no_key_wrong_key_revoked_key(api: Service, method: str, path: str) -> None:
    error_of(call(api, method, path, {}), 401, "missing_key")
    error_of(call(api, method, path, {"X-API-Key": "cib_0123456789ab_notthesecret"}), 401, "invalid_key")
    error_of(call(api, method, path, {"Authorization": "Bearer nonsense"}), 401, "invalid_key")
    key, secret = create_key(api.engine, "leaver", "admin")
    revoke_key(api.engine, key.prefix)
    error_of(call(api, method, path, {"X-API-Key": secret}), 401, "revoked_key")


@pytest.mark.parametrize(("method", "path", "weak"), [
    ("POST", "/v1/datasets", "read"), ("DELETE", "/v1/datasets/1", "read"),
    ("DELETE", "/v1/datasets/1", "upload")])
def test_wrong_scope_is_403(api: Service, method: str, path: str, weak: str) -> None:
    error = error_of(call(api, method, path, api.as_(weak)), 403, "insufficient_scope")
    assert error["detail"]["held"] == weak


def test_bearer_token_works_like_the_header(api: Service) -> None:
    answer = api.client.get("/v1/datasets", headers={"Authorization": f"Bearer {api.keys['read']}"})
    assert answer.status_code == 200


@pytest.mark.parametrize(("method", "path"), READ_ROUTES)
def test_unknown_ids_are_404(api: Service, method: str, path: str) -> None:
    api.wait(upload(api, render("twarc2", hand_made()).encode()).json())
    path = path.replace("C1", "C999").replace("/1", "/999").replace("twitter/999", "twitter/nobody")
    answer = call(api, method, path, api.as_("read"))
    if path in ("/v1/campaigns", "/v1/accounts", "/v1/datasets", "/v1/jobs", "/v1/lookup"):
        assert answer.status_code == 200
    else:
        error_of(answer, 404, "not_found")


def test_before_any_detection_reads_say_so(api: Service) -> None:
    error = error_of(api.client.get("/v1/campaigns", headers=api.as_("read")), 404, "no_detection")
    assert "upload a dataset" in error["message"]


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/v1/campaigns", {"limit": 0}, "limit"),
    ("/v1/campaigns", {"limit": 100000}, "limit"),
    ("/v1/campaigns", {"sort": "bogus"}, "sort"),
    ("/v1/campaigns", {"signal": "telepathy"}, "signal"),
    ("/v1/accounts", {"min_score": 2}, "min_score"),
    ("/v1/accounts", {"flagged": "perhaps"}, "flagged"),
    ("/v1/accounts", {"offset": -1}, "offset"),
    ("/v1/jobs/notanumber", {}, "job_id"),
    ("/v1/campaigns/C1/graph", {"format": "pdf"}, "format"),
    ("/v1/campaigns/C1", {"bucket": "week"}, "bucket"),
])
def test_invalid_parameters_are_422_naming_the_field(api: Service, path: str, params: dict[str, Any],
                                                     field: str) -> None:
    error = error_of(api.client.get(path, params=params, headers=api.as_("read")), 422,
                     "invalid_parameter")
    assert field in error["message"] and error["detail"][0]["field"] == field


@pytest.mark.parametrize(("body", "field"), [({}, "text"), ({"text": ""}, "text"),
                                             ({"text": "x", "limit": 0}, "limit"),
                                             ({"text": "hello", "since": "yesterday"}, "since")])
def test_lookup_body_errors_name_the_field(api: Service, body: dict[str, Any], field: str) -> None:
    error = error_of(api.client.post("/v1/lookup", json=body, headers=api.as_("read")), 422,
                     "invalid_parameter")
    assert field in error["message"]


def test_lookup_of_a_text_without_words_says_what_is_needed(api: Service) -> None:
    api.wait(upload(api, render("twarc2", hand_made()).encode()).json())
    answer = api.client.post("/v1/lookup", json={"text": "https://t.co/abc @someone"},
                             headers=api.as_("read"))
    error = error_of(answer, 422, "text_too_short")
    assert error["message"]


def upload(api: Service, data: bytes, name: str = "dump.jsonl", **headers: str) -> Any:
    return api.client.post("/v1/datasets", files={"file": (name, data)},
                           headers=api.as_("upload") | headers)


def test_oversize_upload_is_413_and_nothing_is_kept(api: Service) -> None:
    data = render("twarc2", hand_made()).encode() * 20
    assert len(data) > 200_000
    error = error_of(upload(api, data), 413, "too_large")
    assert error["detail"]["max_bytes"] == 200_000

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        for start in range(0, len(data), 8192):
            yield data[start:start + 8192]

    answer = api.client.post("/v1/datasets", content=chunks(), headers=api.as_("upload"))
    error_of(answer, 413, "too_large")
    assert list(api.app.state.settings.upload_dir.iterdir()) == []
    assert api.client.get("/v1/jobs", headers=api.as_("read")).json()["total"] == 0


def test_gzip_bomb_is_413(api: Service) -> None:
    # a real first record, so sniffing passes, then 80 MB of blanks
    bomb = gzip.compress(render("twarc2", hand_made()[:1]).encode() + b" " * (80 << 20))
    assert len(bomb) < 200_000
    error = error_of(upload(api, bomb, "bomb.jsonl.gz"), 413, "decompression_bomb")
    assert "decompression bomb" in error["message"]


def test_zip_bomb_is_413(api: Service) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tweets.jsonl", render("twarc2", hand_made()[:1]).encode() + b"\n" * (80 << 20))
    assert len(buffer.getvalue()) < 200_000
    error_of(upload(api, buffer.getvalue(), "bomb.zip"), 413, "decompression_bomb")


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, 415, "unsupported_format"),
    (b"<!doctype html><html><body>Not found</body></html>", 415, "unsupported_format"),
    (b"", 422, "empty_dump"),
    (gzip.compress(render("twarc2", hand_made()).encode())[:3000], 422, "corrupt_dump"),
    (b"name,age\nalice,3\n", 415, "unsupported_format"),
])
def test_files_that_are_not_dumps(api: Service, data: bytes, status: int, code: str) -> None:
    error = error_of(upload(api, data, "upload.bin"), status, code)
    assert "upload.bin" in error["message"]
    assert list(api.app.state.settings.upload_dir.iterdir()) == []


def test_a_format_forced_on_a_csv_without_its_columns(api: Service) -> None:
    answer = api.client.post("/v1/datasets", params={"format": "ioarchive"},
                             files={"file": ("people.csv", b"name,age\nalice,3\n")},
                             headers=api.as_("upload"))
    assert "tweetid" in error_of(answer, 422, "missing_columns")["message"]


def test_multipart_without_a_file_part(api: Service) -> None:
    form = {"Content-Type": "multipart/form-data; boundary=b"}
    body = b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--b--\r\n'
    answer = api.client.post("/v1/datasets", headers=api.as_("upload") | form, content=body)
    assert "-F file=@" in error_of(answer, 422, "missing_file")["message"]


def test_rate_limit_is_429_with_retry_after(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'cib.db'}", tmp_path, rate_limit="3/minute")
    with service(settings, worker=False) as api:
        for _ in range(3):
            assert api.client.get("/v1/datasets", headers=api.as_("read")).status_code == 200
        answer = api.client.get("/v1/datasets", headers=api.as_("read"))
        error = error_of(answer, 429, "rate_limited")
        assert 1 <= int(answer.headers["Retry-After"]) <= 60
        assert error["detail"]["retry_after_s"] == int(answer.headers["Retry-After"])
        # another key has its own window
        assert api.client.get("/v1/datasets", headers=api.as_("admin")).status_code == 200


def test_unknown_route_and_method_keep_the_shape(api: Service) -> None:
    error_of(api.client.get("/v2/nothing"), 404, "not_found")
    error_of(api.client.put("/v1/campaigns", headers=api.as_("read")), 405, "method_not_allowed")


def test_cors_is_off_by_default_and_on_when_configured(api: Service, tmp_path: Path) -> None:
    preflight = {"Origin": "https://newsroom.example", "Access-Control-Request-Method": "GET"}
    answer = api.client.options("/v1/campaigns", headers=preflight)
    assert "access-control-allow-origin" not in answer.headers
    settings = settings_for(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "o",
                            cors_origins=("https://newsroom.example",))
    with service(settings, worker=False) as other:
        answer = other.client.options("/v1/campaigns", headers=preflight)
        assert answer.headers["access-control-allow-origin"] == "https://newsroom.example"
