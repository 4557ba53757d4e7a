"""What became of a run's rows: per-row outcomes and the run's counts, for machines and people."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RowOutcome:
    """What became of one row (kept only when asked, e.g. for ``quarantine retry``)."""

    line: int
    outcome: str  # stored / updated / duplicate / quarantined
    incident_id: str | None = None
    problems: tuple[dict[str, Any], ...] = ()


@dataclass
class IngestSummary:
    """Counts of one run; ``read = stored + updated + duplicates + quarantined``."""

    file: str
    format: str
    encoding: str = ""
    dry_run: bool = False
    read: int = 0
    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    quarantined: int = 0
    quarantine_added: int = 0
    from_coordinates: int = 0
    converted: Counter[str] = field(default_factory=Counter)
    swapped_corrected: int = 0
    coordinates_rejected: int = 0
    geocoded: int = 0
    needs_placement: int = 0
    repeats_linked: int = 0
    phones_invalid: int = 0
    unmapped_categories: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    seconds: float = 0.0
    #: Why the store's spatial index could not be brought up to date at the run's end (every
    #: row is stored; the next opener of the store catches the index up), or None.
    index_pending: str | None = None
    outcomes: list[RowOutcome] | None = None
    #: ``(line, text)`` of the rows above the header read past (a title; masked, bounded).
    above_header: list[tuple[int, str]] = field(default_factory=list)
    #: ``(name, non-empty rows)`` of a workbook's sheets that were not read.
    unread_sheets: list[tuple[str, int]] = field(default_factory=list)

    @property
    def invariant_ok(self) -> bool:
        return self.read == self.stored + self.updated + self.duplicates + self.quarantined

    def as_dict(self) -> dict[str, Any]:
        """The JSON summary: ``read``, ``stored``, ``updated``, ``duplicates``, ``quarantined``
        first, then the details."""
        return {
            "read": self.read,
            "stored": self.stored,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "invariant_ok": self.invariant_ok,
            "file": self.file,
            "format": self.format,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
            "quarantine_added": self.quarantine_added,
            "from_coordinates": self.from_coordinates,
            "converted": dict(self.converted),
            "swapped_corrected": self.swapped_corrected,
            "coordinates_rejected": self.coordinates_rejected,
            "geocoded": self.geocoded,
            "needs_placement": self.needs_placement,
            "repeats_linked": self.repeats_linked,
            "phones_invalid": self.phones_invalid,
            "unmapped_categories": dict(self.unmapped_categories.most_common()),
            "reasons": dict(self.reasons.most_common()),
            "batches": self.batches,
            "index_pending": self.index_pending,
            "above_header": [{"line": n, "text": t} for n, t in self.above_header],
            "unread_sheets": [{"sheet": name, "rows": n} for name, n in self.unread_sheets],
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.read / self.seconds) if self.seconds > 0 else None,
        }

    def table(self) -> str:
        """The summary for people, bilingual, ending with the invariant."""
        rows = [
            ("读取 read", self.read),
            ("新增 stored", self.stored),
            ("更新 updated", self.updated),
            ("重复 duplicates", self.duplicates),
            ("隔离 quarantined", self.quarantined),
            ("  其中新隔离 newly quarantined", self.quarantine_added),
            ("坐标定位 located by coordinates", self.from_coordinates),
            ("  经纬度颠倒已更正 swapped lat/lon corrected", self.swapped_corrected),
            ("  坐标无效改用地址 coordinates rejected", self.coordinates_rejected),
            ("地址定位 geocoded", self.geocoded),
            ("待人工定位 needs manual placement", self.needs_placement),
            ("重复报警关联 repeat calls linked", self.repeats_linked),
            ("电话无效 invalid phones", self.phones_invalid),
        ]
        width = max(len(label) for label, _ in rows) + 2
        head = f"{'试运行 DRY RUN · ' if self.dry_run else ''}{self.file} · {self.format}"
        lines = [head + (f" · {self.encoding}" if self.encoding else "")]
        lines += [f"  {label:<{width}}{n:>10,}" for label, n in rows]
        if self.converted:
            conv = ", ".join(f"{k} {v:,}" for k, v in sorted(self.converted.items()))
            lines.append(f"  坐标转换 converted: {conv}")
        if self.reasons:
            lines.append("  隔离原因 quarantine reasons:")
            lines += [f"    {code:<22}{n:>8,}" for code, n in self.reasons.most_common()]
        if self.unmapped_categories:
            lines.append("  未映射类别（归入其他）unmapped categories (stored as other):")
            lines += [f"    {t:<22}{n:>8,}" for t, n in self.unmapped_categories.most_common(20)]
        for n, text in self.above_header:
            lines.append(f"  表头前的行（未导入）row above the header (not imported): {n}: {text}")
        for name, n in self.unread_sheets:
            lines.append(
                f"  未读取的工作表 sheet not read: “{name}”（{n:,} 行非空 non-empty rows），"
                "如需导入请另存为单独文件 / save it as a file of its own to import it"
            )
        if self.index_pending:
            lines.append(
                "  空间索引未能在结束时补齐，所有行已保存，下次打开存储时自动补齐 / "
                "the spatial index was not brought up to date at the end (every row is stored; "
                f"the next opener of the store does it): {self.index_pending}"
            )
        ok = "成立 holds" if self.invariant_ok else "不成立 BROKEN"
        lines.append(
            f"  read {self.read:,} = stored {self.stored:,} + updated {self.updated:,} + "
            f"duplicates {self.duplicates:,} + quarantined {self.quarantined:,}  [{ok}]"
        )
        lines.append(f"  {self.seconds:.2f} s")
        return "\n".join(lines)
