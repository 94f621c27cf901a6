"""Delivering the outbox: a background loop claims due mails, renders each in its
recipient's language, and sends them over one SMTP connection (the standard library's
client, in a thread). A server that is down or answers 4xx is retried with back-off, as
long as `give_up_after_h`; a permanent refusal (5xx) fails the mail at once. The
Message-ID is made from (event, recipient), so a receiver can recognise the one resend a
crash between sending and recording could cause."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

import structlog

from services.analytics.notifications import outbox
from services.analytics.notifications.settings import MailSettings
from services.analytics.notifications.templates import language_of, render
from shared.db import Database
from shared.waiting import pause

log = structlog.get_logger()


class SmtpClient:
    """Sends messages over one connection per call, as the settings say."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    async def send(self, messages: list[EmailMessage]) -> list[Exception | None]:
        return await asyncio.to_thread(self._send, messages)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host is not None
        if s.smtp_tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host,
                s.smtp_port,
                timeout=s.smtp_timeout_s,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s)
        if s.smtp_tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if s.smtp_username:
            password = s.smtp_password.get_secret_value() if s.smtp_password else ""
            smtp.login(s.smtp_username, password)
        return smtp

    def _send(self, messages: list[EmailMessage]) -> list[Exception | None]:
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            return [exc for _ in messages]
        results: list[Exception | None] = []
        with smtp:
            for message in messages:
                try:
                    smtp.send_message(message)
                    results.append(None)
                except (OSError, smtplib.SMTPException) as exc:
                    results.append(exc)
        return results


def permanent(error: Exception) -> bool:
    """A refusal the server will repeat (5xx): retrying cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


class MailSender:
    def __init__(self, db: Database, settings: MailSettings, client: SmtpClient | None = None):
        self.db = db
        self.settings = settings
        self.client = client or SmtpClient(settings)
        self.sent = 0

    def _backoff(self, attempts: int) -> float:
        s = self.settings
        return float(min(s.retry_first_s * 2 ** min(attempts, 30), s.retry_max_s))

    def message(self, due: outbox.Due) -> EmailMessage:
        assert due.email is not None
        subject, body = render(due.template, due.language, due.params)
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = due.email
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<{due.event_id}.{due.recipient}@shopflow>"
        message["X-Shopflow-Template"] = due.template
        message.set_content(body)
        message["Content-Language"] = language_of(due.language)  # set_content drops Content-*
        return message

    async def send_due(self) -> int:
        """Send what is due now; how many mails were handled (sent or not)."""
        s = self.settings
        async with self.db.transaction() as conn:
            claimed = await outbox.claim(
                conn, s.send_batch, s.address_wait_s, s.give_up_after_h * 3600
            )
            ready: list[tuple[outbox.Due, EmailMessage]] = []
            for due in claimed:
                if due.email is None:
                    if due.known or due.waited_enough:
                        await outbox.settled(conn, due.id, "NO_ADDRESS", "no email address given")
                    else:
                        await outbox.later(
                            conn, due.id, self._backoff(due.attempts), "recipient not known yet"
                        )
                    continue
                ready.append((due, self.message(due)))
            if not ready:
                return len(claimed)
            results = await self.client.send([m for _, m in ready])
            for (due, message), error in zip(ready, results, strict=True):
                if error is None:
                    await outbox.sent(
                        conn,
                        due.id,
                        due.email or "",
                        language_of(due.language),
                        str(message["Subject"]),
                        str(message["Message-ID"]),
                    )
                    self.sent += 1
                elif permanent(error) or due.too_old:
                    await outbox.settled(conn, due.id, "FAILED", repr(error))
                    log.error("mail failed", mail_id=due.id, error=repr(error))
                else:
                    await outbox.later(conn, due.id, self._backoff(due.attempts), repr(error))
                    log.warning("mail not sent, retrying", mail_id=due.id, error=repr(error))
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            handled = await self.send_due()
            if handled < self.settings.send_batch:
                await pause(stop, self.settings.send_interval_s)
