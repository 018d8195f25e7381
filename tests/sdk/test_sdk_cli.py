"""The CLI: argument parsing, output contracts (--json, one-line errors, exit codes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from sdk_fake_gateway import FakeGateway
from sdk_helpers import tree

from arkive import cli

ARKIVE = Path(sys.executable).with_name("arkive")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def gw_env(fake_gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    monkeypatch.setenv("ARKIVE_GATEWAY_ADDR", fake_gateway.address)
    monkeypatch.delenv("ARKIVE_PROJECT", raising=False)
    return fake_gateway


# ---- parsing and usage errors (no server needed) ------------------------------------------


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    assert "ARKIVE_GATEWAY_ADDR" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["log", "--help"])
    assert "default: dataset" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, needle",
    [
        ([], "required"),
        (["frobnicate"], "invalid choice"),
        (["log"], "path"),
        (["show"], "REF"),
        (["log", ".", "--metadata", "{nope"], "INVALID_ARGUMENT: metadata is not valid JSON"),
        (["log", ".", "--metadata", "[1, 2]"], "must be a JSON object"),
        (["log", ".", "--alias", "v3"], "reserved"),
        (["log", ".", "--label", "latest"], "reserved"),
        (["log", ".", "--name", "bad name"], "invalid artifact name"),
        (["log", ".", "--type", "a b"], "invalid type"),
        (["log", ".", "--project", "no/slash"], "invalid project"),
        (["show", "a/b/c"], "invalid ref"),
        (["versions", "demo/mnist:v1"], "without a version"),
        (["ls", "--type", "bad type"], "invalid type"),
        (["admin"], "required"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKIVE_GATEWAY_ADDR", "127.0.0.1:1")  # must never be contacted
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert needle in one_error_line(err)


def test_default_name_from_folder_must_be_valid(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    d = tmp_path / "has space"
    d.mkdir()
    code, _, err = run(capsys, "log", str(d))
    assert code == 2
    assert "pass --name" in one_error_line(err)


def test_missing_path_is_not_found(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "log", str(tmp_path / "nope"), "--name", "x")
    assert code == 1
    assert one_error_line(err).startswith("error: NOT_FOUND: ")


def test_unreachable_gateway(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARKIVE_RETRY_DEADLINE", "1")  # else it waits 60 s for a gateway to come up
    code, out, err = run(capsys, "--gateway", "127.0.0.1:1", "show", "demo/x", "--json")
    assert code == 1 and out == ""
    assert one_error_line(err).startswith("error: UNAVAILABLE: cannot reach the arkive gateway at 127.0.0.1:1")


def test_unexpected_exception_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(args: object) -> int:
        raise RuntimeError("kaput\nsecond line")

    monkeypatch.setattr(cli, "cmd_ls", boom)
    monkeypatch.delenv("ARKIVE_DEBUG", raising=False)
    code, _, err = run(capsys, "ls")
    assert code == 1
    assert one_error_line(err) == "error: INTERNAL: RuntimeError: kaput second line"


def test_up_delegates_lazily(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    fake = types.ModuleType("arkive_stack.up")
    fake.main = lambda argv: seen.append(argv) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "arkive_stack.up", fake)
    assert cli.main(["up", "--foreground", "-x", "--help"]) == 3
    assert cli.main(["--gateway", "h:1", "up"]) == 3
    assert seen == [["--foreground", "-x", "--help"], []]


# ---- commands against the in-memory gateway -------------------------------------------------


def test_log_show_versions_get_json(
    capsys: pytest.CaptureFixture[str], gw_env: FakeGateway, data_dir: Path, tmp_path: Path
) -> None:
    code, out, err = run(
        capsys,
        "log", str(data_dir), "--project", "demo", "--name", "mnist", "--type", "dataset",
        "--alias", "best", "--tag", "raw", "--metadata", '{"rows": 70000}', "--json",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc["created"] is True and doc["ref"] == "demo/mnist:v0" and doc["version_name"] == "v0"
    assert doc["metadata"] == {"rows": 70000} and doc["file_count"] == 5
    assert doc["files_uploaded"] == 4 and doc["bytes_uploaded"] > 3 * 1024 * 1024
    assert set(doc["aliases"]) == {"best", "latest"} and doc["tags"] == ["raw"]
    assert doc["created_at"].endswith("+00:00")

    code, out, _ = run(capsys, "--json", "log", str(data_dir), "-p", "demo", "-n", "mnist")
    again = json.loads(out)
    assert (again["created"], again["bytes_uploaded"], again["files_uploaded"]) == (False, 0, 0)
    assert again["version_id"] == doc["version_id"]

    code, out, _ = run(capsys, "versions", "demo/mnist", "--json")
    listing = json.loads(out)
    assert [v["version"] for v in listing["versions"]] == [0]

    code, out, _ = run(capsys, "show", "demo/mnist:latest", "--files", "--json")
    shown = json.loads(out)
    assert shown["version_id"] == doc["version_id"] and len(shown["files"]) == 5

    restored = tmp_path / "restored"
    code, out, _ = run(capsys, "get", "demo/mnist:v0", "--out", str(restored), "--json")
    got = json.loads(out)
    assert (got["path"], got["files_written"], got["files_skipped"]) == (str(restored), 5, 0)
    assert tree(restored) == tree(data_dir)

    code, out, _ = run(capsys, "ls", "--project", "demo", "--type", "dataset", "--json")
    assert [a["name"] for a in json.loads(out)["artifacts"]] == ["mnist"]

    code, out, _ = run(capsys, "admin", "rebuild-projections", "--json")
    assert json.loads(out)["total_events_replayed"] == 10


def test_human_output(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway, data_dir: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "log", str(data_dir), "--project", "demo", "--name", "mnist")
    assert code == 0 and out.startswith("logged demo/mnist:v0")
    code, out, err = run(capsys, "log", str(data_dir), "--project", "demo", "--name", "mnist", "--tag", "t")
    assert out.startswith("unchanged: demo/mnist:v0 already has this content; nothing uploaded")
    assert "only apply to new versions" in err
    for argv in (
        ["versions", "demo/mnist"],
        ["show", "demo/mnist"],
        ["ls", "-p", "demo"],
        ["admin", "rebuild-projections"],
    ):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and out.strip()
    code, out, _ = run(capsys, "get", "demo/mnist", "-o", str(tmp_path / "o"))
    assert "5 files written" in out


def test_log_single_file_default_name(
    capsys: pytest.CaptureFixture[str], gw_env: FakeGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKIVE_PROJECT", "envproj")
    f = tmp_path / "model.pt"
    f.write_bytes(b"weights")
    _, out, _ = run(capsys, "log", str(f), "--type", "model", "--json")
    doc = json.loads(out)
    assert (doc["project"], doc["name"], doc["type"], doc["file_count"]) == ("envproj", "model.pt", "model", 1)


def test_unknown_ref_not_found(capsys: pytest.CaptureFixture[str], gw_env: FakeGateway) -> None:
    code, out, err = run(capsys, "show", "demo/nothing:v9", "--json")
    assert code == 1 and out == ""
    assert one_error_line(err).startswith("error: NOT_FOUND: ")


def test_console_script_no_traceback(tmp_path: Path) -> None:
    # The installed entry point, as users run it.
    p = subprocess.run([str(ARKIVE), "log", str(tmp_path), "--metadata", "x"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    one_error_line(p.stderr)
    p = subprocess.run(
        [str(ARKIVE), "--gateway", "127.0.0.1:1", "ls", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ARKIVE_RETRY_DEADLINE": "0"},
    )
    assert p.returncode == 1 and p.stdout == ""
    assert one_error_line(p.stderr).startswith("error: UNAVAILABLE")
