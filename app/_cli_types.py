"""Argument types of the CLI's numeric options: a value out of range is refused at parse time,
with a bilingual reason, before anything is opened (``--limit -1`` listed everything,
``--interval 0`` polled in a busy loop). Text that is no number at all is left to argparse's
own "invalid int value" (which ``app.cli`` says in Chinese too)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def whole(least: int, most: int | None = None) -> Callable[[str], int]:
    """A whole number from ``least`` (to ``most``)."""

    def parse(text: str) -> int:
        value = int(text)  # ValueError: argparse says "invalid int value"
        if most is not None and not least <= value <= most:
            zh, en = (
                f"应为 {least} 到 {most} 的整数",
                f"must be a whole number from {least} to {most}",
            )
        elif value < least and least == 0:
            zh, en = "应为整数且不能为负", "must be a whole number, not negative"
        elif value < least:
            zh, en = f"应为整数且至少为 {least}", f"must be a whole number, at least {least}"
        else:
            return value
        raise argparse.ArgumentTypeError(f"{zh} / {en}: {text!r}")

    parse.__name__ = "int"  # argparse names the type in its messages
    return parse


def number(least: float, *, above: bool = False) -> Callable[[str], float]:
    """A finite number from ``least`` (``above``: greater than it)."""

    def parse(text: str) -> float:
        value = float(text)  # ValueError: argparse says "invalid float value"
        if not math.isfinite(value):
            zh, en = "应为有限的数字", "must be a finite number"
        elif above and not value > least:
            zh, en = f"应大于 {least:g}", f"must be greater than {least:g}"
        elif not above and value < least:
            zh, en = (
                ("不能为负", "must not be negative")
                if least == 0
                else (f"应不小于 {least:g}", f"must be at least {least:g}")
            )
        else:
            return value
        raise argparse.ArgumentTypeError(f"{zh} / {en}: {text!r}")

    parse.__name__ = "float"
    return parse


__all__ = ["number", "whole"]
