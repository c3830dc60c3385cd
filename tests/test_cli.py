"""The `chainorg` console script, run as a user runs it."""

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import CHAINORG, HAND_TABLES, credit_code, free_port, write_csv


def run(*args: str, path: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHAINORG, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": path},
    )


@pytest.fixture
def hand_ledger(tmp_path: Path) -> Path:
    for name, rows in HAND_TABLES.items():
        write_csv(tmp_path / f"{name}.csv", rows)
    return tmp_path


def test_load_prints_counts_of_a_valid_ledger(hand_ledger: Path) -> None:
    result = run("load", str(hand_ledger))
    assert result.returncode == 0, result.stderr
    assert f"{hand_ledger}: valid" in result.stdout
    assert re.search(r"│ enterprises\s+│\s+8 │", result.stdout)
    assert re.search(r"│ organizations.CLUSTER\s+│\s+2 │", result.stdout)


def test_load_lists_every_error_and_exits_1(hand_ledger: Path) -> None:
    rows = HAND_TABLES["enterprises"] + [[credit_code(1)[:-1] + "0", "坏公司", "A", "", "", "", "-3", "", "", ""]]
    write_csv(hand_ledger / "enterprises.csv", rows)
    result = run("load", str(hand_ledger))
    assert result.returncode == 1
    assert "2 error(s); nothing loaded" in result.stderr
    row = len(HAND_TABLES["enterprises"]) + 1  # as a spreadsheet numbers it: the header is row 1
    assert re.search(rf"│ enterprises\.csv\s+│ {row}\s+│ credit_code\s+│ .*check character", result.stderr)
    assert re.search(rf"│ enterprises\.csv\s+│ {row}\s+│ formal_members\s+│ -3 .*whole number", result.stderr)


def test_demo_writes_a_ledger_that_loads(tmp_path: Path) -> None:
    assert run("demo", str(tmp_path / "demo")).returncode == 0
    assert {p.name for p in (tmp_path / "demo").iterdir()} >= {"enterprises.csv", "organizations.csv", "coverage.csv"}
    result = run("load", str(tmp_path / "demo"))
    assert result.returncode == 0 and "13,212" in result.stdout


def test_serve_answers_over_http_with_its_config_and_stops(hand_ledger: Path, tmp_path: Path) -> None:
    config = tmp_path / "park.toml"
    config.write_text("[rules.JOINT_TOO_WIDE]\nmax_units = 4\n[limits]\nmax_depth = 2\n")
    port = free_port()
    server = subprocess.Popen([CHAINORG, "serve", "--data", str(hand_ledger), "--port", str(port), "--config", config],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": "{ coverage { enterprises } }"}
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and server.poll() is None, "server did not start"
                time.sleep(0.1)
        assert response.json() == {"data": {"coverage": {"enterprises": 6}}}
        rules = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": RULES_QUERY}).json()["data"]["rules"]
        assert {"rule": "JOINT_TOO_WIDE", "thresholds": [{"name": "max_units", "value": 4}]} in rules
        deep = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": "{ organizations { nodes { parent { id } } } }"}
        )
        assert deep.json()["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "depth": 3, "limit": 2}
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=10)[0].decode()
    assert "Shutting down" in output and "Finished server process" in output


RULES_QUERY = "{ rules { rule thresholds { name value } } }"


def test_serve_refuses_an_invalid_config_naming_the_key(hand_ledger: Path, tmp_path: Path) -> None:
    config = tmp_path / "chainorg.toml"
    config.write_text("[rules.OVERSIZE_BRANCH]\nmax_members = -5\n")
    result = run("serve", "--data", str(hand_ledger), "--port", str(free_port()), "--config", str(config))
    assert result.returncode == 1 and "serving" not in result.stdout
    assert f"configuration refused: {config}: rules.OVERSIZE_BRANCH.max_members: must not be negative" in result.stderr


def test_audit_writes_the_findings(hand_ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "findings.csv"
    result = run("audit", "--data", str(hand_ledger), "--as-of", "2026-11-23", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "规则,规则名称,严重程度,对象类型,对象编号,对象名称,说明"
    assert [line.split(",")[0] for line in lines[1:]] == ["MUST_BUILD", "COVERS_INACTIVE"]
    only = run("audit", "--data", str(hand_ledger), "--as-of", "2026-11-23", "--rule", "COVERS_INACTIVE")
    assert "企业7党支部" in only.stdout and credit_code(5) not in only.stdout
    no_file = run("audit", "--data", str(hand_ledger), "--format", "xlsx")
    assert no_file.returncode == 1 and "--format xlsx writes a file: give --out FILE" in no_file.stderr


def test_bulletin_writes_a_workbook(hand_ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "通报.xlsx"
    result = run("bulletin", "--data", str(hand_ledger), "--as-of", "2021-07-31", "--previous", "2020-07-31",
                 "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("情况通报").to_python()
    assert rows[0][:4] == ["维度", "编号", "名称", "企业数(2021-07-31)"]
    assert [row[0] for row in rows[1:3]] == ["合计", "园区"]
    bad = run("bulletin", "--data", str(hand_ledger), "--as-of", "31/07/2021")
    assert bad.returncode == 2 and "not a date like" in bad.stderr


def test_serve_refuses_a_bad_ledger(tmp_path: Path) -> None:
    write_csv(tmp_path / "enterprises.csv", [["credit_code", "name", "park"], ["bad", "x", "y"]])
    result = run("serve", "--data", str(tmp_path), "--port", str(free_port()))
    assert result.returncode == 1 and "not serving" in result.stderr


def test_ledger_text_is_printed_as_itself_never_as_markup(hand_ledger: Path) -> None:
    rows = [*HAND_TABLES["enterprises"], [credit_code(20), "新公司", "A", "", "", "[/x]", "", "", "", ""]]
    write_csv(hand_ledger / "enterprises.csv", rows)
    result = run("load", str(hand_ledger))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "│ [/x] " in result.stderr


def test_a_forced_encoding_and_a_missing_path(tmp_path: Path) -> None:
    missing = run("load", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "no such file or folder" in missing.stderr
    rows = [["credit_code", "name", "park"], [credit_code(1), "臺北資訊股份有限公司", "臺北"]]
    write_csv(tmp_path / "enterprises.csv", rows, "big5")
    forced = run("load", str(tmp_path), "--encoding", "big5")
    assert forced.returncode == 0, forced.stderr


def test_alone_it_prints_help_and_it_knows_its_version() -> None:
    alone = run()
    assert alone.returncode == 0 and "usage: chainorg" in alone.stdout and "serve" in alone.stdout
    version = run("--version")
    assert version.returncode == 0 and re.fullmatch(r"chainorg \d+\.\d+\.\d+\n", version.stdout)


def test_help_shows_defaults() -> None:
    help_text = run("serve", "--help").stdout
    assert "port to listen on (default: 8000)" in help_text and "else 20000)" in help_text


def test_demo_refuses_a_folder_that_is_not_empty_or_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    refused = run("demo", str(tmp_path))
    assert refused.returncode == 1 and "not empty" in refused.stderr and "--force" in refused.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert run("demo", str(tmp_path / "notes.txt")).stderr.strip().endswith("give a folder for the demo's CSV files")
    assert run("demo", "--force", str(tmp_path)).returncode == 0 and (tmp_path / "enterprises.csv").exists()


def test_serve_on_a_busy_port_says_so_before_claiming_to_serve(hand_ledger: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run("serve", "--data", str(hand_ledger), "--port", str(busy.getsockname()[1]))
    assert result.returncode == 1 and "serving" not in result.stdout
    assert "cannot listen" in result.stderr and "--port" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--timeout", "nan"), "timeout: must be a positive number of seconds"),
        (("--timeout", "-1"), "timeout: must be a positive number of seconds"),
        (("--max-cost", "-5"), "max_cost: must be a positive whole number"),
        (("--max-depth", "2.5"), "max_depth: must be a positive whole number"),
        (("--port", "70000"), "not a port"),
        (("--host", "no-such-host.invalid"), "no such address"),
    ],
)  # fmt: skip
def test_serve_refuses_bad_flags_with_a_reason(hand_ledger: Path, flags: tuple[str, ...], message: str) -> None:
    arguments = ("--port", str(free_port()), *flags) if "--port" not in flags else flags
    result = run("serve", "--data", str(hand_ledger), *arguments)
    assert result.returncode in (1, 2) and "serving" not in result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_killed_server_is_back_on_its_port_at_once(hand_ledger: Path) -> None:
    """Connections the killed server had leave sockets in TIME_WAIT; they are no other program."""
    port = str(free_port())
    for attempt in range(2):
        server = subprocess.Popen([CHAINORG, "serve", "--data", str(hand_ledger), "--port", port, "--no-access-log"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            wait_for(f"http://127.0.0.1:{port}")
            for _ in range(20):  # traffic, closed by the server's side when it dies
                httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"Connection": "close"})
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                client.get("/healthz")
                server.send_signal(signal.SIGKILL)
                server.wait(timeout=10)
        finally:
            server.kill()
        assert attempt == 1 or server.returncode == -signal.SIGKILL, server.stderr.read() if server.stderr else ""


def test_chart_writes_the_format_its_file_names(hand_ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "park.svg"
    result = run("chart", "P", "--data", str(hand_ledger), "--out", str(out), "--as-of", "2021-07-31", path="/usr/bin")
    assert result.returncode == 0, result.stderr
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and all(name in svg for name in ("党工委", "一联组", "X楼联合党支部", "企业2"))


def test_chart_prints_text_formats_and_names_a_file_in_a_folder(hand_ledger: Path, tmp_path: Path) -> None:
    printed = run("chart", "C1", "--data", str(hand_ledger), "--format", "mermaid", "--depth", "1")
    assert printed.returncode == 0, printed.stderr
    assert "flowchart TB" in printed.stdout and "企业1党支部" in printed.stdout
    written = run("chart", "C1", "--data", str(hand_ledger), "--format", "png", "--out", str(tmp_path), path="/usr/bin")
    assert written.returncode == 0, written.stderr
    [picture] = tmp_path.glob("一联组_*.png")
    assert picture.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("chart", "C1", "--format", "pdf"), "PDF is not text: give --out FILE"),
        (("chart", "NOPE"), "cannot chart: no organization has the id 'NOPE'"),
        (("chart", "C1", "--depth", "8"), "depth must be from 0 to 6"),
        (("chart", "C1", "--format", "gif"), "'gif' is not one of svg, png, pdf, dot, mermaid, graphml, json"),
        (("chart", "C1", "--out", "x.svg"), "Graphviz is not installed here"),  # PATH is empty
    ],
)
def test_chart_refusals_say_why(hand_ledger: Path, args: tuple[str, ...], message: str) -> None:
    result = run(*args, "--data", str(hand_ledger))
    assert result.returncode != 0
    assert message in " ".join(result.stderr.split())


def test_load_into_a_state_serve_it_change_it_and_read_the_audit_log(hand_ledger: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    result = run("load", str(hand_ledger), "--state", str(state))
    assert result.returncode == 0, result.stderr
    assert f"serve it with `chainorg serve --state {state}`" in " ".join(result.stdout.split())
    again = run("load", str(hand_ledger), "--state", str(state))
    assert again.returncode == 1 and "holds a state already" in again.stderr and f"rm -r {state}" in again.stderr
    assert "valid" not in again.stdout and "enterprises" not in again.stdout  # refused before the ledger is read

    port = free_port()
    server = subprocess.Popen([CHAINORG, "serve", "--state", str(state), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url)
        mutation = 'mutation { setOrganizationDetails(input: {orgId: "B1", stars: 5, secretary: "王五"}) { stars } }'
        assert httpx.post(f"{url}/graphql", json={"query": mutation}).json() == {
            "data": {"setOrganizationDetails": {"stars": 5}}
        }
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)

    log = run("audit-log", "--state", str(state), "--out", str(tmp_path / "log.csv"))
    assert log.returncode == 0, log.stderr
    rows = (tmp_path / "log.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "变更集,时间,操作人,序号,变更类型,对象编号,变更内容,变更前,变更后"
    assert rows[1].startswith("1,") and ",anonymous,1,setOrganizationDetails,B1," in rows[1] and "王五" in rows[1]

    exported = run("export", "--state", str(state), "--out", str(tmp_path / "ledger"))
    assert exported.returncode == 0, exported.stderr
    organizations = (tmp_path / "ledger" / "organizations.csv").read_text(encoding="utf-8-sig")
    assert "B1,企业1党支部,BRANCH,C1,,2019-06-01,,王五,5," in organizations
    assert run("load", str(tmp_path / "ledger")).returncode == 0


def test_state_commands_say_when_there_is_no_state(tmp_path: Path) -> None:
    for command in (["export", "--out", str(tmp_path / "x")], ["audit-log"], ["serve"]):
        result = run(*command, "--state", str(tmp_path / "none"))
        assert result.returncode == 1
        assert f"make one with `chainorg load LEDGER --state {tmp_path / 'none'}`" in " ".join(result.stderr.split())


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers at {url}")


def closed_within(port: int, send: Callable[[socket.socket], None], seconds: float) -> bool:
    """Whether the server closes a connection that does `send` within `seconds`."""
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.settimeout(seconds)
        send(client)
        try:
            while client.recv(4096):
                pass
        except TimeoutError:
            return False
        except ConnectionResetError:
            pass
    return True


def test_slow_and_idle_clients_are_cut_off(hand_ledger: Path, tmp_path: Path) -> None:
    config = tmp_path / "chainorg.toml"
    config.write_text("[server]\nrequest_seconds = 1\nkeep_alive_seconds = 1\n", encoding="utf-8")
    port = free_port()
    server = subprocess.Popen([CHAINORG, "serve", "--data", str(hand_ledger), "--port", str(port), "--config",
                               str(config), "--no-access-log"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}")

        def trickle(client: socket.socket) -> None:  # headers a byte at a time, for longer than allowed
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ":
                try:
                    client.send(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.05)

        assert closed_within(port, lambda client: None, 4)  # idle from the start
        assert closed_within(port, trickle, 4)
        assert closed_within(
            port, lambda c: c.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n{"), 4
        )
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200  # and the server serves on
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("text", ["[server]\nrequest_seconds = 0\n", "[server]\nrequest_seconds = nan\n",
                                  "[server]\nmax_connection = 5\n"])  # fmt: skip
def test_serve_refuses_bad_server_settings(hand_ledger: Path, tmp_path: Path, text: str) -> None:
    config = tmp_path / "chainorg.toml"
    config.write_text(text, encoding="utf-8")
    result = run("serve", "--data", str(hand_ledger), "--port", str(free_port()), "--config", str(config))
    assert result.returncode == 1 and "server." in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("audit", "--demo", "--as-of", "2021-07-31", "--out", "/nonexistent/folder/f.csv"), "No such file or directory"),
        (("audit", "--demo", "--as-of", "2021-07-31", "--format", "csv", "--out", "/dev/full"), "No space left"),
    ],
)  # fmt: skip
def test_an_output_that_cannot_be_written_is_a_message(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_export_names_a_workbook_or_refuses_a_file_for_a_folder(tmp_path: Path) -> None:
    assert run("load", "--demo", "--state", str(tmp_path / "state")).returncode == 0
    assert run("export", "--state", str(tmp_path / "state"), "--out", str(tmp_path / "park.xlsx")).returncode == 0
    assert (tmp_path / "park.xlsx").is_file()
    (tmp_path / "taken").write_text("", encoding="utf-8")
    refused = run("export", "--state", str(tmp_path / "state"), "--out", str(tmp_path / "taken"))
    assert refused.returncode == 1 and "File exists" in refused.stderr and "Traceback" not in refused.stderr


def test_a_long_report_is_a_page_on_a_terminal_and_whole_tab_separated_in_a_pipe(tmp_path: Path) -> None:
    args = ("audit", "--demo", "--as-of", "2021-07-31")
    assert run(*args, "--out", str(tmp_path / "all.csv")).returncode == 0
    with (tmp_path / "all.csv").open(encoding="utf-8-sig", newline="") as file:
        written = list(csv.reader(file))
    piped = run(*args).stdout.splitlines()
    assert [line.split("\t") for line in piped] == written  # every row, nothing cut or wrapped
    shown = subprocess.run([CHAINORG, *args], capture_output=True, text=True, timeout=120, check=False,
                           env={"COLUMNS": "200", "PATH": "", "FORCE_COLOR": "1"}).stdout  # fmt: skip
    assert f"50 of {len(written) - 1:,} rows shown" in shown and "--out" in shown
    assert shown.count("\n") < 200


NOBODY = 65534


@pytest.fixture
def shared_state(hand_ledger: Path) -> Iterator[Path]:
    """A state made by this user in a folder every user can read (for a run as `nobody`)."""
    folder = Path(tempfile.mkdtemp(prefix="chainorg-shared-"))
    try:
        folder.chmod(0o755)
        assert run("load", str(hand_ledger), "--state", str(folder / "s")).returncode == 0
        (folder / "s").chmod(0o755)
        (folder / "s" / "chainorg.sqlite").chmod(0o644)
        yield folder / "s"
    finally:
        shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="runs the server as another user, which needs root")
@pytest.mark.parametrize("writable", ["", "folder"])
def test_serve_a_state_this_user_cannot_write_is_refused_with_a_reason(shared_state: Path, writable: str) -> None:
    if writable == "folder":
        shared_state.chmod(0o777)  # the folder may be written, the state file still not
    served = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", CHAINORG, "serve",
         "--state", str(shared_state), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, check=False, env={"COLUMNS": "200"},
    )  # fmt: skip
    unwritable = shared_state / "chainorg.sqlite" if writable else shared_state
    assert served.returncode == 1 and "Traceback" not in served.stderr
    assert f"{unwritable} cannot be written by this user" in served.stderr
    assert not (shared_state / "chainorg.lock").exists()  # refused before anything was touched
