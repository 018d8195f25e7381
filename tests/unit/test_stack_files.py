"""Files the launcher writes into the data dir: the SeaweedFS S3 identity and the nats-server config."""

from __future__ import annotations

import json
from pathlib import Path

from arkive_stack import s3identity, servers


def test_s3_identity_is_generated_once_private_and_in_seaweedfs_format(tmp_path: Path) -> None:
    path, access, secret = s3identity.ensure(tmp_path)
    assert path == tmp_path / "s3-identity.json" and path.stat().st_mode & 0o777 == 0o600
    doc = json.loads(path.read_text())
    (identity,) = doc["identities"]
    assert identity["credentials"] == [{"accessKey": access, "secretKey": secret}]
    assert set(identity["actions"]) == {"Admin", "Read", "Write", "List", "Tagging"}
    assert len(secret) >= 32 and access.startswith("arkive-")
    path.chmod(0o644)
    assert s3identity.ensure(tmp_path) == (path, access, secret)  # kept across starts
    assert path.stat().st_mode & 0o777 == 0o600  # and made private again
    other = s3identity.ensure(tmp_path / "other")
    assert other[1:] != (access, secret)


def test_s3_identity_takes_a_given_pair_and_replaces_a_broken_file(tmp_path: Path) -> None:
    s3identity.ensure(tmp_path)
    path, access, secret = s3identity.ensure(tmp_path, "mine", "my-secret")
    assert (access, secret) == ("mine", "my-secret")
    assert s3identity.ensure(tmp_path)[1:] == ("mine", "my-secret")
    path.write_text("{not json")
    _, access, secret = s3identity.ensure(tmp_path)
    assert access != "mine" and json.loads(path.read_text())["identities"][0]["credentials"][0]["secretKey"] == secret


def test_nats_config_listens_on_loopback_and_syncs_jetstream(tmp_path: Path) -> None:
    conf = servers.nats_config(tmp_path / "nats", 4333)
    assert conf == tmp_path / "nats" / "nats-server.conf"
    text = conf.read_text()
    assert 'listen: "127.0.0.1:4333"' in text
    assert f'store_dir: "{tmp_path / "nats"}"' in text and "sync_interval: always" in text
    proc = servers.nats_process(tmp_path / "nats", 4333, tmp_path / "nats.log", 1.0)
    assert proc.argv[-2:] == ["-c", str(conf)]


def test_weed_ports_are_reused_only_when_all_saved_ones_are_valid_distinct_and_free(tmp_path: Path) -> None:
    first = servers.weed_ports(tmp_path, set())
    assert set(first) == set(servers._WEED_PORTS) and len(set(first.values())) == len(first)
    assert json.loads((tmp_path / "ports.json").read_text()) == first
    taken: set[int] = set()
    assert servers.weed_ports(tmp_path, taken) == first  # last run's ports, still free
    assert taken == set(first.values())  # and reserved for this stack
    for broken in (
        {**first, "filer": "8888"},  # not an int
        {k: v for k, v in first.items() if k != "s3_grpc"},  # one missing
        {**first, "volume": first["master"]},  # two the same
    ):
        (tmp_path / "ports.json").write_text(json.dumps(broken))
        fresh = servers.weed_ports(tmp_path, set())
        assert fresh != broken and len(set(fresh.values())) == len(servers._WEED_PORTS)
        assert all(isinstance(p, int) for p in fresh.values())
    (tmp_path / "ports.json").write_text(json.dumps(first))
    busy = {first["filer"]}  # taken by another part of this stack
    again = servers.weed_ports(tmp_path, busy)
    assert again != first and first["filer"] not in again.values()
