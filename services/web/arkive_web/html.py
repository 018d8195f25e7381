"""A tiny template helper that escapes by default: values become text unless wrapped in Markup.

    page = render("<a href='{url}'>{name}</a>", url=link("/p", project), name=user_name)

Every value passed to render() is html.escape()d (quotes too), except Markup, which is HTML the
code built itself (from render() again). Nothing concatenates raw data into HTML.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode


class Markup(str):
    """HTML that is safe as it is (built by render() or join())."""


def esc(value: Any) -> Markup:
    """Markup as it is; anything else as escaped text (None as "")."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def render(template: str, **values: Any) -> Markup:
    """`template` (a literal of the code, never data) with every {name} replaced by esc(value)."""
    return Markup(template.format(**{k: esc(v) for k, v in values.items()}))


def join(parts: Iterable[Any], sep: str = "") -> Markup:
    return Markup(esc(sep).join(esc(p) for p in parts))


def link(path: str, *segments: str, **query: Any) -> str:
    """A URL path: each segment percent-quoted (a name can hold '/', '?', '#'), then the query."""
    url = path + "".join("/" + quote(s, safe="") for s in segments)
    q = {k: v for k, v in query.items() if v not in (None, "")}
    return url + ("?" + urlencode(q) if q else "")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> Markup:
    head = join(render("<th>{h}</th>", h=h) for h in headers)
    body = join(render("<tr>{cells}</tr>", cells=join(render("<td>{c}</td>", c=c) for c in row)) for row in rows)
    return render("<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>", head=head, body=body)


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#20304a;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;align-items:center}
header a{color:#fff;text-decoration:none}header .who{margin-left:auto}
main{max-width:1100px;margin:1em auto;padding:0 1.2em}
h1{font-size:1.4em;word-break:break-all}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;background:#fff;width:100%;margin:.5em 0}
th,td{border:1px solid #d8dde3;padding:.3em .6em;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td code{white-space:pre-wrap}
th{background:#eef1f5;white-space:nowrap}
pre{background:#fff;border:1px solid #d8dde3;padding:.6em;overflow:auto;max-height:30em;
    white-space:pre-wrap;overflow-wrap:anywhere}
.chip{display:inline-block;background:#e3ecfa;border-radius:.8em;padding:0 .6em;margin:0 .2em}
.err{background:#fde8e8;border:1px solid #e99;padding:.6em}.muted{color:#66707a}
form.inline{display:inline}input,select,button{font:inherit;padding:.2em .4em}
img.plot{max-width:100%;background:#fff;border:1px solid #d8dde3}
iframe.plot{width:100%;height:480px;border:1px solid #d8dde3;background:#fff}
svg.lineage{background:#fff;border:1px solid #d8dde3}
.edit{background:#fff;border:1px solid #d8dde3;padding:.6em;margin:.6em 0}.edit textarea{width:100%}
.danger{border-color:#e99}.notice{background:#e8f6ec;border:1px solid #9c9;padding:.6em}
"""


def page(title: str, body: Markup, *, signed_in: bool = False, csrf: str = "", who: str = "") -> Markup:
    """The whole document: header (who is signed in), the CSS, the body."""
    if signed_in:
        who = render(
            "<span class='who'>signed in{as_} <form class='inline' method='post' action='/signout'>"
            "<input type='hidden' name='csrf' value='{csrf}'><button>Sign out</button></form></span>",
            as_=render(" as <b class='principal'>{w}</b>", w=who) if who else "",
            csrf=csrf,
        )
    else:
        who = render("<a class='who' href='/signin'>Sign in</a>")
    return render(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title} · arkive</title>"
        "<meta name='viewport' content='width=device-width'><link rel='stylesheet' href='/static/style.css'>"
        "</head><body><header><a href='/'><b>arkive</b></a><a href='/search'>Search</a>{who}</header>"
        "<main>{body}</main></body></html>",
        title=title,
        who=who,
        body=body,
    )
