"""`chainorg token` and serving with tokens, through the real command line and a real server."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from graph.access import Boundary, Role, Unauthenticated
from tests.conftest import CHAINORG, free_port, serve, serve_state
from tokens import TOKEN, Anonymous, TokenBook, TokenCheck, TokenProblem


def chainorg(*words: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHAINORG, *words], capture_output=True, text=True, timeout=120, check=False, cwd=cwd)


def ask(port: int, query: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, headers=headers, timeout=30)


def test_create_prints_the_token_alone_and_keeps_only_its_hash(folder: Path) -> None:
    made = chainorg("token", "create", "--state", str(folder), "--role", "viewer", "--name", "麓谷园区", "--park", "A")
    assert made.returncode == 0 and TOKEN.fullmatch(made.stdout.strip()), made
    assert "麓谷园区" in made.stderr and "viewer" in made.stderr and made.stdout.strip() not in made.stderr
    token = made.stdout.strip()
    assert token.encode() not in (folder / "chainorg.sqlite").read_bytes()
    listed = chainorg("token", "list", "--state", str(folder))
    assert listed.returncode == 0 and token not in listed.stdout
    assert "麓谷园区" in listed.stdout and "parks A" in listed.stdout and "active" in listed.stdout


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["--role", "admin", "--name", "x", "--park", "A"], "an admin sees every scope"),
        (["--role", "boss", "--name", "x"], "no role 'boss'"),
        (["--role", "viewer", "--name", "x", "--expires", "2020-01-01"], "is past already"),
        (["--role", "viewer", "--name", "x", "--expires", "soon"], "give a date like"),
        (["--role", "viewer", "--name", "   "], "a name is needed"),
        (["--role", "viewer", "--name", "a\x01b"], "control characters"),
    ],
)
def test_create_refuses_what_it_cannot_make(folder: Path, words: list[str], says: str) -> None:
    made = chainorg("token", "create", "--state", str(folder), *words)
    assert made.returncode != 0 and says in made.stderr and made.stdout == "" and "Traceback" not in made.stderr


def test_a_name_is_one_token_for_ever_and_revoking_an_unknown_name_says_so(folder: Path) -> None:
    book = TokenBook(folder / "chainorg.sqlite")
    book.create("甲", Role.EDITOR)
    book.revoke("甲")
    with pytest.raises(TokenProblem, match="exists"):
        book.create("甲", Role.EDITOR)
    revoked = chainorg("token", "revoke", "--state", str(folder), "乙")
    assert revoked.returncode == 1 and "no token is named '乙'" in revoked.stderr


def test_a_file_that_is_not_a_tokens_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "junk.sqlite").write_bytes(b"not a database" * 100)
    listed = chainorg("token", "list", "--tokens", str(tmp_path / "junk.sqlite"))
    assert listed.returncode == 1 and "cannot hold tokens" in listed.stderr and "Traceback" not in listed.stderr
    missing = chainorg("token", "list", "--state", str(tmp_path))
    assert missing.returncode == 1 and "holds no state" in missing.stderr


def test_the_token_check_takes_a_bearer_token_and_nothing_else(tmp_path: Path) -> None:
    book = TokenBook(tmp_path / "tokens.sqlite")
    token = book.create("看板", Role.VIEWER, Boundary.of(parks=["A"]))
    check = TokenCheck(book)
    assert check.caller(f"Bearer {token}").name == "看板" and check.caller(f"bearer  {token} ").role is Role.VIEWER
    for header in (token, f"Basic {token}", "Bearer", f"Bearer {token}x", None):
        with pytest.raises(Unauthenticated):
            check.caller(header)
    expired = book.create("旧", Role.VIEWER, expires=datetime.now(UTC) + timedelta(milliseconds=50))
    check.refresh()
    assert check.caller(f"Bearer {expired}").name == "旧"
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert "expired" in str(next(r for r in book.listed() if r.name == "旧").refusal(later))


def test_no_tokens_on_loopback_is_admin_but_not_from_another_machine() -> None:
    check = TokenCheck(None)
    assert check.caller(None).role is Role.ADMIN
    with pytest.raises(Unauthenticated):
        check.caller(None, from_loopback=False)
    allowed = TokenCheck(None, Anonymous.allowed(Role.VIEWER), open_when_empty=False)
    assert allowed.caller(None, from_loopback=False).role is Role.VIEWER


def test_serving_on_another_address_without_tokens_refuses_to_start(folder: Path) -> None:
    done = chainorg("serve", "--state", str(folder), "--host", "0.0.0.0", "--port", str(free_port()))
    assert done.returncode == 1 and "refusing to serve on 0.0.0.0 with no tokens" in done.stderr
    assert f"chainorg token create --state {folder} --role admin" in done.stderr and "Traceback" not in done.stderr


def test_anonymous_role_on_another_address_reads_only_its_park(folder: Path) -> None:
    port = free_port()
    server = serve("--state", str(folder), "--host", "0.0.0.0", "--anonymous", "viewer", "--anonymous-park", "B",
                   port=port)  # fmt: skip
    try:
        parks = ask(port, "{ parks { name } me { role } }").json()["data"]
        assert parks == {"parks": [{"name": "B"}], "me": {"role": "viewer"}}
        write = ask(port, 'mutation { setOrganizationDetails(input: {orgId: "B2", stars: 1}) { id } }').json()
        assert write["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_tokens_outlive_a_restart_and_record_their_last_use(folder: Path) -> None:
    token = chainorg("token", "create", "--state", str(folder), "--role", "editor", "--name", "编辑").stdout.strip()
    port = free_port()
    for _ in range(2):  # the same answers after a restart on the same port: the tokens are on disk
        server = serve_state(folder, port)
        try:
            assert ask(port, "{ parks { name } }").status_code == 401
            assert ask(port, "{ me { name role } }", token).json()["data"]["me"] == {"name": "编辑", "role": "editor"}
        finally:
            server.terminate()
            server.wait(timeout=30)
    [record] = TokenBook(folder / "chainorg.sqlite").listed()
    assert record.last_used is not None and datetime.now(UTC) - record.last_used < timedelta(minutes=5)


def test_a_ledger_server_reads_a_tokens_file(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.sqlite"
    made = chainorg("token", "create", "--tokens", str(tokens), "--role", "viewer", "--name", "看板")
    port = free_port()
    server = serve("--demo", "--tokens", str(tokens), port=port)
    try:
        assert ask(port, "{ parks { name } }").status_code == 401
        seen = ask(port, "{ organizations(first: 1) { totalCount } me { name } }", made.stdout.strip()).json()
        assert seen["data"]["me"] == {"name": "看板"} and seen["data"]["organizations"]["totalCount"] > 0
        write = ask(
            port, 'mutation { setOrganizationDetails(input: {orgId: "X", stars: 1}) { id } }', made.stdout.strip()
        )
        assert write.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_uvicorn_with_chainorg_tokens_needs_a_token(tmp_path: Path) -> None:
    """The ASGI app under a plain uvicorn, tokens from the file CHAINORG_TOKENS names."""
    tokens = tmp_path / "tokens.sqlite"
    token = TokenBook(tokens).create("看板", Role.VIEWER, Boundary.of(parks=["长沙高新区"]))
    port = free_port()
    uvicorn = Path(CHAINORG).parent / "uvicorn"
    process = subprocess.Popen([str(uvicorn), "server:app", "--port", str(port)], cwd=Path(__file__).parent.parent,
                               env={**os.environ, "CHAINORG_TOKENS": str(tokens)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "uvicorn did not start"
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}  # no counts without a token
        assert ask(port, "{ parks { name } }").status_code == 401
        assert ask(port, "{ me { name role } }", token).json()["data"]["me"] == {"name": "看板", "role": "viewer"}
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("words", [["token", "create", "--role", "viewer", "--name", "x", "--park", "A\x01"],
                                   ["serve", "--demo", "--anonymous", "viewer", "--anonymous-chain", "  "]])  # fmt: skip
def test_scope_names_on_the_command_line_are_checked_as_ledger_cells(folder: Path, words: list[str]) -> None:
    where = ["--state", str(folder)] if words[0] == "token" else []
    done = chainorg(*words[:2], *where, *words[2:])
    assert done.returncode == 2 and ("control characters" in done.stderr or "a name is needed" in done.stderr)
    assert "Traceback" not in done.stderr


def test_a_tokens_path_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    listed = chainorg("token", "list", "--tokens", str(tmp_path))
    assert listed.returncode == 1 and "is not a file" in listed.stderr
