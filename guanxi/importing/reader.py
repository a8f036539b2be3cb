"""Reading what users upload: CSV / TSV in the encodings Chinese Excel saves, XLSX, XLS, ODS.

``sniff`` looks at a file once (kind, encoding, delimiter, sheets, header row) and
``open_table`` streams its rows as ``(row_number, cells)`` where ``row_number`` is the
number a spreadsheet shows (title and header rows count, 1-based). Nothing is ever
evaluated: a formula cell is read as its text (``=1+1``).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None

SAMPLE_BYTES = 256 * 1024
HEADER_SCAN_ROWS = 30
_CSV_DELIMITERS = (",", ";", "\t", "|")
# Formula-neutralised cells we exported ourselves ('=SUM…) come back without the quote.
_NEUTRALISED = re.compile(r"^'[=+\-@\t\r]")


class UnreadableFile(Exception):  # noqa: N818
    """The file cannot be read at all; the message says why, for the user."""


@dataclass
class FileInfo:
    """What sniffing found; every value can be overridden by the user."""

    kind: str  # csv | xlsx | xls | ods
    encoding: str = ""
    delimiter: str = ""
    sheets: list[str] = field(default_factory=list)
    sheet: str = ""
    header_row: int = 1  # spreadsheet row number of the header
    headers: list[str] = field(default_factory=list)
    needs_cell_details: bool = False  # xlsx with formulas or merged cells → openpyxl

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sheets": self.sheets,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "headers": self.headers,
        }


def max_upload_bytes() -> int:
    return int(getattr(settings, "GUANXI_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def _kind_of(path: Path, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile as exc:
            raise UnreadableFile(_("The file is damaged (not a valid spreadsheet).")) from exc
        if "mimetype" in names and "content.xml" in names:
            return "ods"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        raise UnreadableFile(_("This is a zip file, not a spreadsheet."))
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if b"\x00" in head[:4096] and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # UTF-16 without a BOM is rare; other NUL bytes mean a binary file.
        if head[1:2] == b"\x00" or head[0:1] == b"\x00":
            return "csv"
        raise UnreadableFile(_("This file is neither a spreadsheet nor a text (CSV) file."))
    return "csv"


def _guard_zip(path: Path) -> None:
    """Refuse zip bombs: a small upload that inflates to gigabytes."""
    limit = int(getattr(settings, "GUANXI_IMPORT_MAX_UNZIPPED_BYTES", 2 * 1024**3))
    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                if info.compress_size and info.file_size / info.compress_size > 200:
                    raise UnreadableFile(
                        _("The spreadsheet is compressed suspiciously (zip bomb).")
                    )
            if total > limit:
                raise UnreadableFile(_("The spreadsheet is too large once unpacked."))
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(_("The file is damaged (not a valid spreadsheet).")) from exc


def sniff_encoding(sample: bytes) -> str:
    """utf-8-sig, utf-16, utf-8, gbk or gb18030 (in that order of evidence)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(sample) >= 4 and sample[1] == 0 and sample[3] == 0:
        return "utf-16-le"
    if len(sample) >= 4 and sample[0] == 0 and sample[2] == 0:
        return "utf-16-be"
    # The sample may end inside a multi-byte character: decode incrementally.
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableFile(_("The text encoding of this file is not recognised."))


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of cells."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", (-1, -1)
    for delim in _CSV_DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delim)]
        if not counts or max(counts) < 2:
            continue
        common = max(set(counts), key=counts.count)
        score = (counts.count(common), common)
        if score > best_score:
            best, best_score = delim, score
    return best


def cell_text(value: Cell) -> str:
    """A cell as the text a user would see (13800138000.0 → 13800138000)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    if _NEUTRALISED.match(text):
        return text[1:]
    return text.strip()


def _csv_rows(path: Path, info: FileInfo) -> Iterator[list[Cell]]:
    with open(path, encoding=info.encoding or "utf-8", errors="strict", newline="") as fh:
        try:
            for row in csv.reader(fh, delimiter=info.delimiter or ","):
                yield list(row)
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                _("The file is not valid %(encoding)s text (byte %(pos)d).")
                % {"encoding": info.encoding, "pos": exc.start}
            ) from exc
        except csv.Error as exc:
            raise UnreadableFile(_("The CSV file is malformed: %(e)s") % {"e": exc}) from exc


def _sheet_xml_has_details(path: Path) -> bool:
    """Whether any worksheet has formulas or merged cells (then openpyxl reads it)."""
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.startswith("xl/worksheets/") or not name.endswith(".xml"):
                continue
            with zf.open(name) as fh:
                while chunk := fh.read(1 << 20):
                    if b"<f>" in chunk or b"<f " in chunk or b"<mergeCell " in chunk:
                        return True
    return False


def _calamine_rows(path: Path, info: FileInfo) -> Iterator[list[Cell]]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_name(info.sheet) if info.sheet else wb.get_sheet_by_index(0)
        # Calamine starts at the first used cell; keep spreadsheet row and column numbers.
        start_row, start_col = sheet.start or (0, 0)
        for _i in range(start_row):
            yield []
        pad: list[Cell] = [None] * start_col
        for row in sheet.iter_rows():
            yield [*pad, *row] if pad else list(row)
    except UnreadableFile:
        raise
    except Exception as exc:  # calamine raises its own types for every malformed file
        raise UnreadableFile(_("The spreadsheet cannot be read: %(e)s") % {"e": exc}) from exc


def _openpyxl_rows(path: Path, info: FileInfo) -> Iterator[list[Cell]]:
    """Cell details: formulas as their text (never evaluated), merged ranges filled in."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=False, read_only=False)
    except Exception as exc:
        raise UnreadableFile(_("The spreadsheet cannot be read: %(e)s") % {"e": exc}) from exc
    ws = wb[info.sheet] if info.sheet else wb.worksheets[0]
    merged: dict[tuple[int, int], Any] = {}
    for rng in ws.merged_cells.ranges:
        top = ws.cell(rng.min_row, rng.min_col).value
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    merged[(r, c)] = top
    for r_idx, row in enumerate(ws.iter_rows(), start=1):
        cells: list[Cell] = []
        for c_idx, cell in enumerate(row, start=1):
            value = cell.value
            if (r_idx, c_idx) in merged and value is None:
                value = merged[(r_idx, c_idx)]
            if not isinstance(value, str | int | float | bool | dt.date | dt.time | type(None)):
                value = str(value)  # ArrayFormula and the like: their text
            cells.append(value)
        yield cells
    wb.close()


def raw_rows(path: Path, info: FileInfo) -> Iterator[list[Cell]]:
    """Every row of the file (or chosen sheet) from row 1, as cells."""
    if info.kind == "csv":
        return _csv_rows(path, info)
    if info.kind == "xlsx" and info.needs_cell_details:
        return _openpyxl_rows(path, info)
    return _calamine_rows(path, info)


def _sheet_names(path: Path, kind: str) -> list[str]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        return [s.name for s in wb.sheets_metadata if str(s.visible).lower().endswith("visible")]
    except Exception as exc:
        raise UnreadableFile(_("The spreadsheet cannot be read: %(e)s") % {"e": exc}) from exc


def detect_header_row(rows: list[list[Cell]], score: Any) -> int:
    """Index (0-based) of the header among the first rows: the row whose cells look most
    like known headers; title rows above it (one long cell, a merged banner) lose."""
    best_idx, best = 0, (-1, -1)
    for idx, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        texts = [cell_text(c) for c in row]
        filled = [t for t in texts if t]
        if len(filled) < 2:
            continue
        known = score(filled)
        candidate = (known, len(filled))
        if candidate > best:
            best_idx, best = idx, candidate
        if known >= 3 and known >= len(filled) // 2:
            break
    return best_idx


def sniff(
    path: Path,
    *,
    encoding: str = "",
    delimiter: str = "",
    sheet: str = "",
    header_row: int = 0,
    header_score: Any = None,
) -> FileInfo:
    """Look at the file once. Overrides (non-empty arguments) win over detection.

    Raises UnreadableFile with one clear message when the file cannot be read at all.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(_("The file cannot be opened.")) from exc
    if size > max_upload_bytes():
        raise UnreadableFile(
            _("The file is larger than %(mb)d MB.") % {"mb": max_upload_bytes() // (1024 * 1024)}
        )
    if size == 0:
        raise UnreadableFile(_("The file is empty."))
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    kind = _kind_of(path, head)
    info = FileInfo(kind=kind)
    if kind == "csv":
        info.encoding = encoding or sniff_encoding(head)
        try:
            text = codecs.getincrementaldecoder(info.encoding)().decode(head, final=False)
        except (UnicodeDecodeError, LookupError) as exc:
            raise UnreadableFile(
                _("The file is not valid %(encoding)s text.") % {"encoding": info.encoding}
            ) from exc
        info.delimiter = delimiter or sniff_delimiter(text.lstrip("\ufeff"))
    else:
        if kind in ("xlsx", "ods"):
            _guard_zip(path)
        info.sheets = _sheet_names(path, kind)
        if sheet and sheet not in info.sheets:
            raise UnreadableFile(_("There is no sheet named %(s)s.") % {"s": sheet})
        info.sheet = sheet or (info.sheets[0] if info.sheets else "")
        if kind == "xlsx":
            info.needs_cell_details = _sheet_xml_has_details(path)
    first: list[list[Cell]] = []
    for row in raw_rows(path, info):
        first.append(row)
        if len(first) >= HEADER_SCAN_ROWS:
            break
    if not any(cell_text(c) for row in first for c in row):
        raise UnreadableFile(_("The file has no data."))
    if header_row:
        idx = header_row - 1
    else:
        idx = detect_header_row(first, header_score or (lambda cells: 0))
    info.header_row = idx + 1
    info.headers = [cell_text(c) for c in (first[idx] if idx < len(first) else [])]
    while info.headers and not info.headers[-1]:
        info.headers.pop()
    return info


def data_rows(path: Path, info: FileInfo) -> Iterator[tuple[int, list[Cell]]]:
    """(spreadsheet row number, cells) of every row below the header."""
    for number, row in enumerate(raw_rows(path, info), start=1):
        if number <= info.header_row:
            continue
        yield number, row
