"""A stdin that says it is a terminal: the CLI asks for a password only on one (getpass would
echo it elsewhere), and tests answer the prompts with a patched ``getpass``."""

from __future__ import annotations

import io


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True
