"""CLI commands about the bus consumers: `arkive admin dead-letters [--retry ID]` and
`arkive admin check`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import _cli_output as show
from ._consumers import print_checks, print_dead_letters


def add_parsers(adsub: Any, common: argparse.ArgumentParser) -> None:
    dl = adsub.add_parser(
        "dead-letters", parents=[common], help="events the bus consumers gave up on; --retry ID applies one again"
    )
    dl.add_argument("--retry", type=int, metavar="ID", help="apply this dead letter again (after fixing its cause)")
    adsub.add_parser(
        "check",
        parents=[common],
        help="compare each bus consumer with the event log and re-drive what it missed (exit 1 if still missing)",
    )


def cmd_dead_letters(args: argparse.Namespace, client: Any) -> int:
    json_mode = getattr(args, "json", False)
    if args.retry is not None:
        result = client.retry_dead_letter(args.retry)
        if json_mode:
            show.emit_json(result)
        else:
            what = "applied" if result["applied"] else "had been applied already; removed"
            sys.stdout.write(f"dead letter {args.retry} ({result['consumer']}, event {result['event_id']}): {what}\n")
        return 0
    letters = client.dead_letters()
    if json_mode:
        show.emit_json({"dead_letters": [d.to_dict() for d in letters]})
    else:
        print_dead_letters(letters)
    return 0


def cmd_check(args: argparse.Namespace, client: Any) -> int:
    checks = client.check_consumers()
    missing = sum(c.still_missing for c in checks)
    if getattr(args, "json", False):
        show.emit_json({"consumers": [c.to_dict() for c in checks], "ok": missing == 0})
    else:
        print_checks(checks)
        if missing:
            sys.stdout.write(f"{missing} events are still missing (waiting for earlier events); run the check again\n")
    return 1 if missing else 0
