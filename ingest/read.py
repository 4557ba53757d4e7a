"""Reading feed files: CSV (UTF-8, UTF-8 with BOM, GBK, GB18030), .xlsx and JSON / JSON lines.

Every row comes back as text with its line number, so that a rejected row can say where it was.

Encoding detection is written out here rather than taken from a library (charset-normalizer is
installed, as a dependency of requests): the set of encodings is closed — the UTF-8 family or the
GB family (GB18030 is a superset of GBK and GB2312) — and a strict decode decides between them
exactly, where a statistical detector guesses, and on short Chinese CSVs sometimes guesses Big5
or a Cyrillic code page. The rule: a BOM means UTF-8; a strict UTF-8 decode that succeeds means
UTF-8; a file whose non-ASCII lines are mostly valid UTF-8 is UTF-8 with some bad rows (a GB18030
decode would "succeed" on it and turn every row into mojibake); otherwise GB18030. Bytes that do
not decode are kept as surrogates (``surrogateescape``), and the row they are in is quarantined
instead of being stored garbled.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest._raw import (
    TITLE_ROWS,
    HeaderTest,
    RawRow,
    RawTable,
    bad_shape,
    find_header,
    has_bad_bytes,
    mark_unstorable,
    row_text,
)
from ingest._xlsx import read_xlsx
from ingest.formats import FormatError

#: Tried in order when no encoding is given (see the module docstring).
ENCODINGS = ("utf-8-sig", "gb18030")
#: Suffixes read as JSON (patrol reports); everything else but .xlsx is CSV.
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


def detect_encoding(data: bytes) -> tuple[str, bool]:
    """``(encoding, clean)``: the encoding to read ``data`` with, and whether every byte decodes.

    See the module docstring for the rule.
    """
    enc, text = _detect(data)
    return enc, text is not None


def _detect(data: bytes) -> tuple[str, str | None]:
    """``(encoding, text)``: :func:`detect_encoding`'s encoding, and ``data`` decoded with it
    when every byte decodes (``None`` when some do not), so that a clean file is decoded once."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return "utf-8-sig", data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return "utf-8-sig", None
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    valid = invalid = 0
    lines = data.split(b"\n")
    left = len(lines)
    for line in lines:
        left -= 1
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            valid += 1
        except UnicodeDecodeError:
            invalid += 1
            if valid + left <= invalid:
                break  # decided: the lines left cannot make UTF-8 the majority
    if valid > invalid:
        return "utf-8", None
    try:
        return "gb18030", data.decode("gb18030")
    except UnicodeDecodeError:
        return "gb18030", None


def _check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise FormatError(f"未知编码 / unknown encoding {name!r}") from None


def read_table(
    path: str | Path, encoding: str | None = None, is_header: HeaderTest | None = None
) -> RawTable:
    """Read a feed file by its suffix: ``.xlsx``, ``.json``/``.jsonl``, else CSV.

    ``is_header`` tells the header of the format expected: a CSV or a workbook may have a few
    rows above it (a title), read past and kept in :attr:`RawTable.above_header`; without it,
    or when none of the first rows is the header, the first non-empty row is.

    Raises
    ------
    FileNotFoundError
        No such file.
    FormatError
        The file as a whole cannot be read (empty, no header, not a workbook, not JSON).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"找不到文件 / no such file: {p}")
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        return read_xlsx(p, is_header)
    if suffix in JSON_SUFFIXES:
        return read_json(p, encoding)
    return read_csv(p, encoding, is_header)


def read_csv(
    path: Path, encoding: str | None = None, is_header: HeaderTest | None = None
) -> RawTable:
    data = path.read_bytes()
    decoded: str | None = None
    if encoding:
        enc, detected = _check_encoding(encoding), False
        if enc == "utf-8" and data.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
    else:
        enc, decoded = _detect(data)
        detected = True
    clean = decoded is not None  # else check every row
    text = decoded if decoded is not None else data.decode(enc, errors="surrogateescape")
    lines = list(io.StringIO(text, newline=""))
    _allow_fields(len(text))
    at, above = _header_at(lines, is_header)
    header, rows = _csv_rows(lines, clean, "\x00" in text, at)
    if header is None:
        raise FormatError(f"文件为空或没有表头 / the file is empty or has no header: {path.name}")
    if not clean and header and any(has_bad_bytes(h) for h in header):
        raise FormatError(
            f"表头无法按 {enc} 解码，请用 --encoding 指明 / the header does not decode as {enc}; "
            f"say --encoding (UTF-8, GBK, …): {path.name}"
        )
    return RawTable(str(path), header, rows, enc.replace("_", "-"), detected, above)


def _allow_fields(size: int) -> None:
    """Raise the csv module's field size limit to ``size`` (a field is at most the whole text):
    a stray quote swallowing the 128 KiB the default allows failed the whole file before
    :func:`_swallowed` could tell its lines apart. Only ever raised, never put back: the limit
    is the process's, and a reader in another thread must not find it lowered under it."""
    if csv.field_size_limit() <= size:
        csv.field_size_limit(size + 1)


def _header_at(lines: list[str], is_header: HeaderTest | None) -> tuple[int, list[tuple[int, str]]]:
    """Where (a 0-based line) the header of a CSV file's ``lines`` starts, and ``(line, text)``
    of the rows above it (see :func:`ingest._raw.find_header`)."""
    if is_header is None:
        return 0, []
    first: list[tuple[int, list[str]]] = []  # (where the record starts, its cells)
    reader, done = csv.reader(lines), 0
    for values in reader:
        start, done = done, reader.line_num
        if any(v.strip() for v in values):
            first.append((start, values))
            if len(first) > TITLE_ROWS:
                break
    k = find_header([values for _, values in first], is_header)
    if not k:  # the first row, or none of them
        return 0, []
    return first[k][0], [(at + 1, row_text(values)) for at, values in first[:k]]


def _csv_rows(
    lines: list[str], clean: bool, nul: bool, pos: int = 0
) -> tuple[list[str] | None, list[RawRow]]:
    """The header and the rows of a CSV file's ``lines`` from line ``pos`` (0-based; ``clean``:
    every byte decoded; ``nul``: some line holds a NUL, see :func:`mark_unstorable`)."""
    header: list[str] | None = None
    rows: list[RawRow] = []
    # pos: where reading (re)starts, see _swallowed
    while pos < len(lines):
        reader = csv.reader(itertools.islice(lines, pos, None) if pos else lines)
        done, restart = pos, 0  # lines read before the record; the line to restart after
        for values in reader:
            start, done = done + 1, pos + reader.line_num
            error = None
            if header is not None and done > start and _swallowed(lines, start, done, len(header)):
                values, error, restart = next(csv.reader([lines[start - 1]]), []), _UNCLOSED, start
            if header is None:
                if not any(v.strip() for v in values):
                    continue
                header = [v.strip() for v in values]
                continue
            if not "".join(values).strip() and error is None:
                continue  # blank line
            row = RawRow(start, values)
            if error is not None:
                row.error = error
            if not clean:
                row.bad_encoding = [i for i, v in enumerate(values) if has_bad_bytes(v)]
            if len(values) != len(header) and error is None:
                row.error = bad_shape(len(values), len(header))
            if nul:
                mark_unstorable(header, row)
            rows.append(row)
            if restart:
                break  # again from the line after the one with the stray quote
        pos = restart or len(lines)
    return header, rows


#: A line whose opening quote is never closed (see :func:`_swallowed`).
_UNCLOSED = (
    "bad_quote",
    "该行的引号没有闭合，其后各行已按原样单独读取",
    "a quote opened in this line is never closed; the lines after it were read on their own",
)


def _swallowed(lines: list[str], start: int, end: int, width: int) -> bool:
    """Whether the record of ``lines[start - 1 : end]`` (1-based, several lines) holds rows
    that a stray quote swallowed.

    A stray opening quote makes the csv module read every line after it, up to the next quote
    or the end of the file, into one field: those rows would vanish into one record (stored,
    or quarantined as ``bad_shape``). A record whose later lines include one with as many
    fields as the header on its own is taken for that: :func:`read_csv` keeps its first line
    alone as ``bad_quote`` and reads on from the line after it. A quoted field with line
    breaks stays one field, unless one of its lines is a row of commas as wide as the header.
    """
    return any(len(next(csv.reader([line]), [])) == width for line in lines[start:end])


def _flatten(obj: dict[str, Any]) -> dict[str, str]:
    """A patrol report as flat text fields: ``point`` ({lon, lat}, [lon, lat] or a GeoJSON
    Point) becomes ``lon``/``lat`` (a point in another shape: its text as ``lon``, which the
    location step refuses and notes), lists (photos) become JSON text."""
    out: dict[str, str] = {}
    for key, value in obj.items():
        if key in ("point", "location", "geometry") and value is not None:
            lon = lat = None
            if isinstance(value, dict) and "coordinates" in value:
                value = value["coordinates"]
            if isinstance(value, dict):
                lon = value.get("lon", value.get("lng", value.get("x")))
                lat = value.get("lat", value.get("y"))
                if value.get("crs"):
                    out.setdefault("crs", str(value["crs"]))
            elif isinstance(value, list | tuple) and len(value) >= 2:
                lon, lat = value[0], value[1]
            else:  # a point in no known shape ("120.1,29.0"): kept, refused as no number
                lon = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            out["lon"] = "" if lon is None else str(lon)
            out["lat"] = "" if lat is None else str(lat)
        elif isinstance(value, list | dict):
            out[key] = json.dumps(value, ensure_ascii=False)
        else:
            out[key] = "" if value is None else str(value)
    return out


class _Object(dict[str, Any]):
    """A JSON object as read (the last value of a key given twice, as ``json`` keeps it) with
    its pairs as given: a report naming a field twice is ambiguous, and is quarantined."""

    pairs: list[tuple[str, Any]]

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _Object:
        obj = cls(pairs)
        obj.pairs = pairs
        return obj

    def twice(self, at: str = "") -> list[str]:
        """The keys given more than once, here and in the objects inside (``point.lon``)."""
        seen: set[str] = set()
        out: list[str] = []
        for key, value in self.pairs:
            if key in seen and at + key not in out:
                out.append(at + key)
            seen.add(key)
            for inner in value if isinstance(value, list) else [value]:
                if isinstance(inner, _Object):
                    out += [k for k in inner.twice(f"{at}{key}.") if k not in out]
        return out

    def source(self) -> str:
        """The object as JSON text, every pair as given (a key given twice, twice)."""
        return (
            "{"
            + ", ".join(
                f"{json.dumps(k, ensure_ascii=False)}: "
                f"{v.source() if isinstance(v, _Object) else json.dumps(v, ensure_ascii=False)}"
                for k, v in self.pairs
            )
            + "}"
        )


def load_json(text: str) -> Any:
    """``json.loads``, objects keeping the pairs as given (see :func:`given_twice`)."""
    return json.loads(text, object_pairs_hook=_Object.of)


def given_twice(obj: Any) -> list[str]:
    """The keys an object read by :func:`load_json` gives more than once, at any depth."""
    return obj.twice() if isinstance(obj, _Object) else []


def _json_objects(text: str, name: str) -> Iterator[tuple[int, Any, str | None]]:
    """``(line, object, error)`` of a JSON array / object, or of JSON lines."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = load_json(text)
        except json.JSONDecodeError as exc:
            raise FormatError(
                f"JSON 无效（第 {exc.lineno} 行）/ invalid JSON in {name} at line {exc.lineno}: "
                f"{exc.msg}"
            ) from None
        for i, item in enumerate(items, start=1):
            yield i, item, None
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, load_json(line), None
        except json.JSONDecodeError as exc:
            yield number, None, exc.msg


def _twice_error(keys: list[str]) -> tuple[str, str, str]:
    """The error of a report naming ``keys`` more than once."""
    names = ", ".join(keys)
    return (
        "duplicate_key",
        f"字段 {names} 出现不止一次，无法确定取哪个值，请改正后重试",
        f"the field {names} is given more than once: which value is meant is unclear; fix it "
        "and retry",
    )


def read_json(path: Path, encoding: str | None = None) -> RawTable:
    """Patrol reports: a JSON array of objects (line = position in the array) or JSON lines."""
    data = path.read_bytes()
    enc = _check_encoding(encoding) if encoding else detect_encoding(data)[0]
    text = data.decode(enc, errors="surrogateescape")
    header: list[str] = []
    seen: set[str] = set()
    records: list[tuple[int, dict[str, str] | None, str | None, Any]] = []
    for line, obj, error in _json_objects(text, path.name):
        if error is None and not isinstance(obj, dict):
            error = "not an object"
        twice = obj.twice() if error is None and isinstance(obj, _Object) else []
        flat = _flatten(obj) if error is None and not twice else None
        for key in flat or ():
            if key not in seen:
                seen.add(key)
                header.append(key)
        records.append((line, flat, error, obj if twice else None))
    rows: list[RawRow] = []
    array = text.lstrip().startswith("[")
    for line, flat, error, ambiguous in records:
        if flat is None:
            raw = text.splitlines()[line - 1] if not array else ""
            if ambiguous is not None and array:
                raw = ambiguous.source()
            row = RawRow(line, [""] * len(header or ["raw"]), raw_text=raw)
            row.error = (
                ("bad_json", f"不是有效的 JSON 对象（{error}）", f"not a JSON object ({error})")
                if ambiguous is None
                else _twice_error(ambiguous.twice())
            )
        else:
            values = [flat.get(h, "") for h in header]
            row = RawRow(line, values, [i for i, v in enumerate(values) if has_bad_bytes(v)])
            mark_unstorable(header, row)
        rows.append(row)
    return RawTable(str(path), header or ["raw"], rows, "json")
