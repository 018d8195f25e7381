"""Drafts of a base version without a server: what remove() records, what new_draft() copies, and
the `log --base` usage errors (caught before anything is sent)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from arkive_core.errors import InvalidArgument, NotFound
from test_sdk_cli import one_error_line, run

from arkive import Artifact, ArtifactVersion


def version(**over: object) -> ArtifactVersion:
    fields: dict = dict(
        project="demo", name="mnist", version=3, version_id="a" * 32, type="model",
        manifest_digest="sha256:" + "0" * 64,
        file_count=10, total_size=100, metadata={"rows": 1, "n": {"k": 1}}, description="d", aliases=("latest",),
        tags=("t",), label="", created_at=datetime.now(UTC),
    )  # fmt: skip
    fields.update(over)
    return ArtifactVersion(**fields)


def test_new_draft_copies_name_type_metadata_description() -> None:
    base = version()
    draft = base.new_draft()
    assert (draft.name, draft.type, draft.description, draft.base) == ("mnist", "model", "d", base)
    draft.metadata["rows"] = 2
    draft.metadata["n"]["k"] = 2
    assert base.metadata == {"rows": 1, "n": {"k": 1}}  # editing the draft's metadata leaves the version alone
    assert len(draft) == 0 and draft.removals == []
    assert "base='demo/mnist:v3'" in repr(draft)


def test_remove_drops_local_files_first_then_records_base_removals(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    draft = version().new_draft()
    draft.add_file(f, "new/a.txt")
    draft.add_file(f, "new/b.txt")
    draft.add_file(f, "newer.txt")
    draft.remove("new/")  # both local files below the folder; "newer.txt" is not below "new"
    assert draft.paths == ["newer.txt"] and draft.removals == []
    draft.remove("old/part/")
    draft.remove("old/part")  # recorded once
    draft.remove("z.txt")
    assert draft.removals == ["old/part", "z.txt"]
    with pytest.raises(InvalidArgument):
        draft.remove("/abs")
    plain = Artifact("x")
    plain.add_file(f, "a.txt")
    with pytest.raises(NotFound):
        plain.remove("b.txt")  # no base: nothing to record
    plain.remove("a.txt")
    assert len(plain) == 0


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["log", "a", "b"], "several paths need --name"),
        (["log", ".", "--remove", "x"], "--remove needs --base"),
        (["log", "--base", "demo/mnist"], "needs a path to add, a --reference or a --remove"),
        (["log", "--base", "a/b/c", "."], "invalid ref"),
        (["log", "--base", "demo/mnist", ".", "--name", "other"], "differs from the base"),
        (["log", "--base", "demo/mnist", ".", "--metadata", "[1]"], "must be a JSON object"),
    ],
)
def test_log_base_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARKIVE_GATEWAY_ADDR", "127.0.0.1:1")  # must never be contacted
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert needle in one_error_line(err)
