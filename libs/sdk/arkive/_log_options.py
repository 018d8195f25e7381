"""LogOptions: what a log sets on the version it makes besides its content.

Every log_* method takes aliases, tags, label and run_id as keyword arguments (the public API);
inside the SDK they travel together as one LogOptions, checked once, down to the CommitDraft or
FinishDistributed request that carries them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arkive_core.validation import MAX_ALIASES, MAX_TAGS, check_alias, check_label, check_list, check_tag


@dataclass(frozen=True, slots=True)
class LogOptions:
    """aliases to move onto the new version, its tags and label, and the run logging it ("" = none)."""

    aliases: Sequence[str] = ()
    tags: Sequence[str] = ()
    label: str | None = None
    run_id: str = ""

    def checked(self) -> LogOptions:
        """The options validated (InvalidArgument otherwise), as the server expects them."""
        return LogOptions(
            check_list(list(self.aliases), check_alias, "aliases", MAX_ALIASES),
            check_list(list(self.tags), check_tag, "tags", MAX_TAGS),
            check_label(self.label) if self.label else "",
            self.run_id,
        )

    def keywords(self) -> dict[str, Any]:
        """As the keyword arguments of the public log methods (and of the requests that carry them)."""
        return {
            "aliases": list(self.aliases),
            "tags": list(self.tags),
            "label": self.label or "",
            "run_id": self.run_id,
        }
