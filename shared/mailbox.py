"""The development mailbox: a real SMTP server (aiosmtpd) that keeps every message it
receives as a file (`<data dir>/mail/*.eml`), where `shopflow mail` lists and shows them.
`shopflow up` runs it (`python -m shared.mailbox`) unless SHOPFLOW_MAIL_SMTP_HOST points at
a real server; tests start one in-process with `Mailbox(...).start()`."""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any


class _Keep:
    """aiosmtpd's handler: each message written whole (then renamed, so a reader never sees
    half of one), named by arrival time so names sort oldest first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / f".{name}.tmp"
        data = envelope.original_content or envelope.content
        recipients = ", ".join(envelope.rcpt_tos)
        partial.write_bytes(f"X-Envelope-To: {recipients}\r\n".encode() + data)
        partial.replace(self.directory / name)
        return "250 Message accepted for delivery"


class Mailbox:
    """An SMTP server on `host:port` keeping messages under `directory`."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 8025) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        # imported here: aiosmtpd is in the `embedded` extra, and reading the kept mail
        # (`shopflow mail`) needs no server
        from aiosmtpd.controller import Controller

        self._controller = Controller(_Keep(directory), hostname=host, port=port)

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class KeptMail:
    path: Path
    to: str
    sender: str
    subject: str
    date: str

    @property
    def name(self) -> str:
        return self.path.name


def read(path: Path) -> EmailMessage:
    with path.open("rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def kept(directory: Path, to: str | None = None) -> list[KeptMail]:
    """The kept mails, newest first (to one address only, when `to` is given)."""
    found = []
    for path in sorted(directory.glob("*.eml"), reverse=True):
        message = read(path)
        recipients = str(message.get("X-Envelope-To") or message.get("To") or "")
        if to is not None and to.lower() not in recipients.lower():
            continue
        # when it arrived (its name), else its Date header
        date = str(message.get("Date") or "")
        with contextlib.suppress(TypeError, ValueError):
            date = parsedate_to_datetime(date).strftime("%Y-%m-%d %H:%M:%S %z")
        with contextlib.suppress(ValueError):
            arrived = datetime.fromtimestamp(int(path.name.split("-")[0]) / 1e9, UTC)
            date = arrived.strftime("%Y-%m-%d %H:%M:%S UTC")
        found.append(
            KeptMail(path, recipients, str(message.get("From", "")), str(message["Subject"]), date)
        )
    return found


def text_of(message: EmailMessage) -> str:
    """The plain-text body, decoded."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def main() -> None:
    parser = argparse.ArgumentParser(description="shopflow's development SMTP server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, required=True, help="where messages are kept")
    args = parser.parse_args()
    mailbox = Mailbox(args.dir, args.host, args.port).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(f"SMTP on {args.host}:{args.port}, keeping mail in {args.dir}", flush=True)
    stopped.wait()
    mailbox.stop()


if __name__ == "__main__":
    main()
