"""Names, paths, digests, metadata and refs: what clients may send and what is refused."""

from __future__ import annotations

import pytest
from arkive_core.errors import InvalidArgument
from arkive_core.manifest import manifest_digest
from arkive_core.refs import parse_ref
from arkive_core.validation import (
    check_alias,
    check_digest,
    check_label,
    check_name,
    check_path,
    normalize_path,
    parse_metadata,
)

TRAVERSAL = [
    "../etc/passwd",
    "a/../../b",
    "/etc/passwd",
    "a/./b",
    "a//b",
    "a/",
    "",
    "C:\\x",
    "C:/x",
    "a\\..\\b",
    "a\0b",
    "a\nb",
    "..",
    ".",
    "x/" + "a" * 256,
    "a" * 1025,
]


@pytest.mark.parametrize("path", TRAVERSAL)
def test_bad_paths_are_refused(path):
    with pytest.raises(InvalidArgument):
        normalize_path(path)


def test_good_paths_are_kept_and_unicode_is_nfc():
    assert normalize_path("images/cat 1.png") == "images/cat 1.png"
    assert normalize_path("%2e%2e/x") == "%2e%2e/x"  # stays a literal file name, never decoded
    decomposed = "cafe\u0301.txt"
    assert normalize_path(decomposed) == "caf\u00e9.txt"
    with pytest.raises(InvalidArgument, match="NFC"):
        check_path(decomposed)


@pytest.mark.parametrize("name", ["mnist", "a", "A-b_c.d", "x" * 128])
def test_good_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", ".x", "a/b", "a:b", "x" * 129, "a b", "ü", "x."])
def test_bad_names(name):
    with pytest.raises(InvalidArgument):
        check_name(name)


def test_aliases_and_labels_cannot_look_like_versions():
    with pytest.raises(InvalidArgument):
        check_alias("v3")
    with pytest.raises(InvalidArgument):
        check_label("latest")
    assert check_alias("v3-candidate") == "v3-candidate"


def test_digests():
    assert check_digest("sha256:" + "a" * 64)
    for bad in ["sha256:" + "A" * 64, "md5:" + "a" * 32, "sha256:" + "a" * 63, "a" * 64]:
        with pytest.raises(InvalidArgument):
            check_digest(bad)


def test_metadata():
    assert parse_metadata('{"rows": 70000}') == {"rows": 70000}
    assert parse_metadata("") == {}
    for bad in ["[1]", "{", '"x"']:
        with pytest.raises(InvalidArgument):
            parse_metadata(bad)
    with pytest.raises(InvalidArgument, match="larger"):
        parse_metadata('{"x": "' + "a" * 70000 + '"}')


def test_refs():
    r = parse_ref("demo/mnist:v3")
    assert (r.project, r.name, r.version_number) == ("demo", "mnist", 3)
    assert parse_ref("mnist", "p").selector == "latest"
    assert parse_ref("demo/mnist:best").version_number is None
    assert parse_ref("0123456789abcdef0123456789abcdef").version_id
    for bad in ["", "a/b/c", "demo/mnist:v1:v2", "mnist", "demo/../x", "demo/mn ist"]:
        with pytest.raises(InvalidArgument):
            parse_ref(bad)


def test_manifest_digest_is_order_independent_and_content_sensitive():
    a = [("b", "sha256:" + "1" * 64, 1), ("a", "sha256:" + "2" * 64, 2)]
    assert manifest_digest(a) == manifest_digest(list(reversed(a)))
    assert manifest_digest(a) != manifest_digest([("b", "sha256:" + "1" * 64, 2), a[1]])
    assert manifest_digest([]).startswith("sha256:")


def test_non_utf8_file_names_are_refused_cleanly():
    with pytest.raises(InvalidArgument, match="UTF-8"):
        normalize_path("bad\udcffname")


def test_file_folder_conflicts():
    from arkive_core.validation import file_folder_conflicts

    assert file_folder_conflicts(["a", "a/b", "c/d", "c/e"]) == [("a", "a/b")]
    assert file_folder_conflicts(["ab", "a/b"]) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": 1e400}', "finite"),
        ('{"a": -1e400}', "finite"),
        ('{"a": 9223372036854775808}', "int64"),
        ('{"a": -9223372036854775809}', "int64"),
        ('{"a": ' + "[" * 32 + "]" * 32 + "}", "nested deeper than 32"),
        ('{"a": ' + "[" * 20000 + "]" * 20000 + "}", "nested deeper than 32"),
        ('{"a": "\\u0000"}', "NUL"),
        ('{"\\u0000": 1}', "NUL"),
        ('{"a": "\\udc80"}', "surrogate"),
        ('{"a": "' + "x" * 70000 + '"}', "65536 bytes"),
    ],
)
def test_metadata_values_the_stack_cannot_keep_are_refused(text, words):
    with pytest.raises(InvalidArgument, match="metadata") as info:
        parse_metadata(text)
    assert words in info.value.message


def test_metadata_limits_themselves_are_accepted():
    deepest = '{"a": ' + "[" * 31 + "]" * 31 + "}"
    inner = parse_metadata(deepest)["a"]  # 32 levels with the top-level object
    for _ in range(30):
        inner = inner[0]
    assert inner == []
    value = parse_metadata('{"max": 9223372036854775807, "min": -9223372036854775808, "f": 1.7976931348623157e308}')
    assert value == {"max": 2**63 - 1, "min": -(2**63), "f": 1.7976931348623157e308}
