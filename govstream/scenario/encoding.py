"""A scenario file's bytes as text: UTF-8, or GB18030/GBK where the file is written in it.

Chinese editors on Windows still save GBK by default, and the plan's own words (实时, 工作日)
are in the scenarios people copy; such a file is as good a scenario as a UTF-8 one. The
encoding is taken from a byte-order mark, then from a coding comment on the first two lines
(`# -*- coding: gbk -*-`, `# encoding: gb18030`, as Python source declares it), then UTF-8 is
tried and GB18030 (a superset of GBK and GB2312) after it. A file that is not text at all (an
image, an archive) is refused as such rather than read as garbled settings.
"""

from __future__ import annotations

import codecs
import re

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (b"\x84\x31\x95\x33", "gb18030"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
"""Byte-order marks, longest first where one begins another (UTF-32 LE begins as UTF-16 LE)."""

BINARY_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip archive",
    b"\x7fELF": "a program",
}

CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
"""PEP 263's coding declaration, which editors (Emacs, Vim) also understand."""

FALLBACKS = ("utf-8", "gb18030")

CHINESE_NATIONAL = {"gbk", "gb2312", "cp936", "ms936", "gb18030", "euc-cn", "euccn"}
"""Names of GB encodings; all are read as GB18030, which contains each of them."""


class NotText(ValueError):
    """The file is not text in an encoding a scenario can be read from; the message says why."""


def decode_scenario(data: bytes) -> str:
    """The text of a scenario file; NotText names the encodings tried, or what the file is."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _decode(data, encoding, "its byte-order mark")
    _refuse_binary(data)
    declared = declared_encoding(data)
    if declared is not None:
        return _decode(data, declared, "its coding comment")
    for encoding in FALLBACKS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NotText(
        f"the file cannot be decoded: tried {' and '.join(e.upper() for e in FALLBACKS)}; save "
        "it as UTF-8, or name its encoding on the first line, e.g. `# -*- coding: gbk -*-`"
    )


def declared_encoding(data: bytes) -> str | None:
    """The encoding a coding comment on the first two lines names, GB names read as GB18030."""
    for line in data.splitlines()[:2]:
        match = CODING.match(line)
        if match:
            name = match.group(1).decode("ascii", "replace").lower().replace("_", "-")
            return "gb18030" if name in CHINESE_NATIONAL else name
    return None


def _decode(data: bytes, encoding: str, named_by: str) -> str:
    try:
        text = data.decode(encoding)
    except LookupError:
        raise NotText(
            f"the file's encoding {encoding!r} (named by {named_by}) is not one Python knows; "
            "allowed: utf-8, gbk, gb18030 or any Python codec name"
        ) from None
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        raise NotText(
            f"the file cannot be decoded as {encoding} (named by {named_by}): byte "
            f"{error.start} (0x{bad}) is not valid there"
        ) from None
    return text.removeprefix("\ufeff")


def _refuse_binary(data: bytes) -> None:
    for signature, kind in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise NotText(f"the file is not a text scenario: it is {kind}")
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise NotText(f"the file is not a text scenario: it holds binary data (a NUL byte at {at})")
