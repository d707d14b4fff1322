"""The bytes of an outgoing mail: headers, a text + HTML alternative, attachments.

Written directly rather than through ``email.generator``: every mail mailflow sends has the
same simple shape, and the generator (folding each header through ``email.header``, scanning
bodies for boundaries) cost more than rendering the mail's templates. Lines end in CRLF and stay
within 78 characters where a header can be folded; bodies are base64 (Chinese, attachments) or
quoted-printable (English), whose alphabets cannot contain our random boundaries.
"""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
from collections.abc import Sequence
from email.header import Header
from email.utils import encode_rfc2231, formataddr, quote

from mailflow.config import Person

CRLF = "\r\n"
FOLD_AT = 76


@functools.lru_cache(maxsize=4096)  # the directory's people, over and over
def header_address(person: Person) -> str:
    """``名字 <address>`` with the name as an RFC 2047 word; no CR/LF can reach the header."""
    name = " ".join(person.name.split())
    return formataddr((name, person.address), charset="utf-8")


def header_line(name: str, value: str) -> str:
    """One header, folded at spaces to stay within :data:`FOLD_AT` where it can."""
    if "\r" in value or "\n" in value:  # no value can start a header of its own
        value = " ".join(value.split())
    if not value.isascii():
        return f"{name}: {Header(value, 'utf-8', header_name=name).encode(linesep=CRLF)}{CRLF}"
    return _folded(f"{name}: {value}", " ") + CRLF


def address_line(name: str, people: Sequence[Person]) -> str:
    """``To``/``Cc``: the addresses separated by commas, one fold between two where needed."""
    return _folded(f"{name}: " + ", ".join(map(header_address, people)), ", ") + CRLF


def _folded(line: str, separator: str) -> str:
    if len(line) <= FOLD_AT:
        return line
    pieces = line.split(separator)
    keep = separator.rstrip()
    lines, current = [], pieces[0]
    for piece in pieces[1:]:
        if len(current) + len(separator) + len(piece) > FOLD_AT:
            lines.append(current + keep)
            current = " " + piece
        else:
            current += separator + piece
    lines.append(current)
    return CRLF.join(lines)


def text_part(body: str, subtype: str, *, base64_body: bool) -> bytes:
    data = body.replace("\r\n", "\n").encode("utf-8")
    if base64_body:
        encoding, payload = "base64", _base64_lines(data)
    else:
        encoding, payload = "quoted-printable", binascii.b2a_qp(data, istext=True)
        payload = payload.replace(b"\n", b"\r\n")
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}"
    )
    return head.encode("ascii") + payload


def attachment_part(filename: str, mime_type: str, data: bytes) -> bytes:
    maintype, _, subtype = mime_type.partition("/")
    if filename.isascii():
        name_param, file_param = f'name="{quote(filename)}"', f'filename="{quote(filename)}"'
    else:
        encoded = encode_rfc2231(filename, "utf-8")
        name_param, file_param = f"name*={encoded}", f"filename*={encoded}"
    head = (
        f"Content-Type: {maintype}/{subtype or 'octet-stream'};{CRLF} {name_param}{CRLF}"
        f"Content-Transfer-Encoding: base64{CRLF}"
        f"Content-Disposition: attachment;{CRLF} {file_param}{CRLF}{CRLF}"
    )
    return head.encode("ascii") + _base64_lines(data)


def multipart(subtype: str, parts: Sequence[bytes]) -> tuple[str, bytes]:
    """(Content-Type header value, body) of a multipart holding ``parts``."""
    boundary = f"=_{subtype}_{secrets.token_hex(12)}"
    # the CRLF before each delimiter belongs to the delimiter (RFC 2046), not to the part
    delimiter = f"{CRLF}--{boundary}{CRLF}".encode("ascii")
    body = delimiter[2:] + delimiter.join(parts) + f"{CRLF}--{boundary}--{CRLF}".encode("ascii")
    return f'multipart/{subtype};{CRLF} boundary="{boundary}"', body


def _base64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")
