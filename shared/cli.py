"""`shopflow`: start the whole system, stop it, see its status, mint a token."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import IO

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from shared import embedded
from shared.auth import ROLES, mint_token
from shared.migrations import SERVICES_DIR, upgrade
from shared.settings import SERVICES, Settings
from shared.supervisor import Process, Supervisor

app = typer.Typer(help="shopflow: event-sourced order fulfillment", no_args_is_help=True)
COMMANDS_GROUP = "shopflow.commands"


def _add_plugin_commands() -> None:
    """Tools built on the platform (the simulator in bench/) add their commands through the
    `shopflow.commands` entry points; the platform never imports them. A tool left out of
    the installation (the production image has no bench/) adds no command."""
    for entry in entry_points(group=COMMANDS_GROUP):
        try:
            command = entry.load()
        except ModuleNotFoundError as exc:
            if exc.name != entry.module.split(".")[0]:
                raise
            continue
        app.command(entry.name)(command)


console = Console(soft_wrap=True)
COLORS = {
    "order": "cyan",
    "fulfillment": "green",
    "pickup": "yellow",
    "aftersales": "magenta",
    "analytics": "blue",
    "tansu": "white",
    "mail": "bright_black",
}


def available_services() -> list[str]:
    """The services that exist in this checkout, in contract order."""
    return [s for s in SERVICES if (SERVICES_DIR / s / "app.py").exists()]


def _state_file(settings: Settings) -> Path:
    return settings.data_dir / "run" / "state.json"


def _pump(name: str, stream: IO[bytes]) -> None:
    color = COLORS.get(name, "white")
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip()
        console.print(f"[{color}]{name:>11} |[/] " + escape(line), highlight=False)


@app.command()
def up(
    services: list[str] = typer.Option(None, "--service", "-s", help="only these services"),
) -> None:
    """Start PostgreSQL and the broker (embedded unless configured), migrate, run services;
    restart a service, the embedded broker or the embedded PostgreSQL that exits."""
    settings = Settings()
    names = services or available_services()
    unknown = sorted(set(names) - set(available_services()))
    if unknown:
        raise typer.BadParameter(f"unknown or not yet built services: {', '.join(unknown)}")
    data_dir = settings.data_dir.resolve()
    state: dict[str, object] = {"launcher": os.getpid(), "services": {}}
    pgdata = data_dir / "pgdata"
    embedded_pg = settings.database_url is None
    env = dict(os.environ)

    def restarted(name: str, process: Process) -> None:
        if name in ("tansu", "postgres", "mail"):
            state[name] = process.pid
        else:
            state["services"][name]["pid"] = process.pid  # type: ignore[index]
        _write_state(settings, state)

    supervisor = Supervisor(
        log=lambda line: console.print(f"[bold red]{escape(line)}[/]", highlight=False),
        on_restart=restarted,
    )

    def shutdown(*_: object) -> None:
        raise KeyboardInterrupt

    # SIGINT too: a launcher started from a script in the background inherits it ignored,
    # and then Ctrl-C (or a test's SIGINT) would never stop it.
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        if embedded_pg:
            console.print(f"[bold]PostgreSQL[/] embedded, data in {pgdata}")
            postgres = supervisor.start("postgres", lambda: embedded.PostgresServer(pgdata))
            assert isinstance(postgres, embedded.PostgresServer)
            server_url = postgres.url
            state["postgres"] = postgres.pid
        else:
            server_url = settings.database_url  # type: ignore[assignment]
            console.print("[bold]PostgreSQL[/] external (DATABASE_URL)")
        if settings.kafka_bootstrap_servers:
            bootstrap = settings.kafka_bootstrap_servers
            console.print(f"[bold]Kafka[/] external at {bootstrap}")
        else:
            port = settings.embedded_kafka_port
            console.print(f"[bold]Kafka[/] embedded Tansu broker on 127.0.0.1:{port} (memory)")
            log_file = data_dir / "logs" / "tansu.log"
            tansu = supervisor.start(
                "tansu",
                lambda: embedded.start_tansu(port, log_file),
                ready=functools.partial(_accepts_connections, "127.0.0.1", port),
            )
            bootstrap = f"127.0.0.1:{port}"
            state["tansu"] = tansu.pid
        env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
        if os.environ.get("SHOPFLOW_MAIL_SMTP_HOST"):
            console.print(f"[bold]SMTP[/] external at {os.environ['SHOPFLOW_MAIL_SMTP_HOST']}")
        else:
            smtp_port = settings.embedded_smtp_port
            mail_dir = data_dir / "mail"
            console.print(
                f"[bold]SMTP[/] embedded on 127.0.0.1:{smtp_port}, mail kept in {mail_dir} "
                "(`shopflow mail`)"
            )
            mail = supervisor.start(
                "mail",
                functools.partial(_start_mailbox, smtp_port, mail_dir),
                ready=functools.partial(_accepts_connections, "127.0.0.1", smtp_port),
            )
            state["mail"] = mail.pid
            env["SHOPFLOW_MAIL_SMTP_HOST"] = "127.0.0.1"
            env["SHOPFLOW_MAIL_SMTP_PORT"] = str(smtp_port)
            env["SHOPFLOW_MAIL_SMTP_TLS"] = "none"
        for name in names:
            var = f"SHOPFLOW_{name.upper()}_DATABASE_URL"
            url = os.environ.get(var) or embedded.ensure_database(server_url, f"shopflow_{name}")
            upgrade(name, url)
            env[var] = url
            console.print(f"[bold]{name}[/] database migrated")
        for name in names:
            child = supervisor.start(
                name,
                functools.partial(_start_service, name, env),
                ready=functools.partial(
                    _is_ready, f"http://{settings.host}:{settings.port_for(name)}/readyz"
                ),
            )
            state["services"][name] = {"pid": child.pid, "port": settings.port_for(name)}  # type: ignore[index]
        _write_state(settings, state)
        for name in names:
            url = f"http://{settings.host}:{settings.port_for(name)}/readyz"
            _wait_ready(url, supervisor.process(name))
            console.print(
                f"[bold green]{name} ready[/] on http://{settings.host}:{settings.port_for(name)}/docs"
            )
        console.print("[bold]shopflow is up.[/] Ctrl-C stops everything.")
        while True:
            supervisor.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("\n[bold]stopping[/]")
    finally:
        supervisor.stop()
        _state_file(settings).unlink(missing_ok=True)
        console.print("stopped")


def _start_service(name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`python -m services.<name>`, its output printed line by line under its name."""
    process = subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(name, process.stdout), daemon=True).start()
    return process


def _start_mailbox(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """The development SMTP server (`shared.mailbox`), its output under the name `mail`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.mailbox", "--port", str(port), "--dir", str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    threading.Thread(target=_pump, args=("mail", process.stdout), daemon=True).start()
    return process


def _write_state(settings: Settings, state: dict[str, object]) -> None:
    """Replaced whole, so that `shopflow status` and `down` never read half of it."""
    path = _state_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(state))
    partial.replace(path)


def _is_ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def _accepts_connections(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _wait_ready(url: str, child: Process, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    returncode = child.poll()
    if returncode is not None:
        raise RuntimeError(f"the service exited with {returncode}; see its log above")
    raise RuntimeError(f"{url} did not become ready in {timeout_s:.0f}s")


@app.command()
def down() -> None:
    """Stop a running `shopflow up` (by the PIDs it recorded)."""
    settings = Settings()
    path = _state_file(settings)
    if not path.exists():
        console.print("nothing is running (no state file)")
        raise typer.Exit(0)
    state = json.loads(path.read_text())
    try:
        os.kill(state["launcher"], signal.SIGTERM)
    except ProcessLookupError:
        pids = [s["pid"] for s in state["services"].values()]
        pids += [state.get("tansu"), state.get("mail")]
        for pid in filter(None, pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        embedded.stop_postgres(settings.data_dir.resolve() / "pgdata")
        path.unlink(missing_ok=True)
    console.print("stop requested")


@app.command()
def status() -> None:
    """Show what is running and whether each service is ready."""
    settings = Settings()
    path = _state_file(settings)
    if not path.exists():
        console.print("not running")
        raise typer.Exit(1)
    state = json.loads(path.read_text())
    for name, info in state["services"].items():
        url = f"http://{settings.host}:{info['port']}/readyz"
        try:
            body = httpx.get(url, timeout=3).json()
        except httpx.HTTPError as exc:
            body = {"status": f"unreachable ({exc.__class__.__name__})"}
        console.print(f"{name:>11}  pid {info['pid']:>7}  port {info['port']}  {body}")
    for name in ("postgres", "tansu", "mail"):
        if state.get(name):
            console.print(f"{name:>11}  pid {state[name]:>7}")


@app.command()
def mail(
    which: str = typer.Argument(
        None, help="show this mail whole: its number in the list (1 = newest) or file name"
    ),
    to: str = typer.Option(None, "--to", help="only mails to this address"),
    limit: int = typer.Option(20, help="list at most this many"),
) -> None:
    """The mail `shopflow up`'s development SMTP server received, newest first; with a
    number, that mail's headers and text."""
    from shared import mailbox

    directory = Settings().data_dir.resolve() / "mail"
    mails = mailbox.kept(directory, to)
    if which is None:
        if not mails:
            console.print(f"no mail in {directory}")
            return
        for number, kept in enumerate(mails[:limit], start=1):
            console.print(
                f"{number:>3}  {kept.date:<25} {escape(kept.to):<32} {escape(kept.subject)}",
                highlight=False,
            )
        return
    chosen = [m for m in mails if m.name == which]
    if not chosen and which.isdigit() and 0 < int(which) <= len(mails):
        chosen = [mails[int(which) - 1]]
    if not chosen:
        console.print(f"no mail {which} in {directory}")
        raise typer.Exit(1)
    message = mailbox.read(chosen[0].path)
    for header in ("Date", "From", "To", "Subject", "Message-ID", "Content-Language"):
        if message.get(header):
            console.print(f"{header}: {escape(str(message[header]))}", highlight=False)
    console.print(f"File: {chosen[0].path}\n", highlight=False)
    console.print(escape(mailbox.text_of(message)), highlight=False)


@app.command()
def token(
    role: str = typer.Argument(..., help=" | ".join(ROLES)),
    sub: str = typer.Option("user-1", help="the caller's id"),
    seller_id: str = typer.Option(None, help="for sellers (defaults to sub)"),
    carrier: str = typer.Option(None, help="for carriers"),
    provider: str = typer.Option(None, help="for drivers"),
    hours: float = typer.Option(12, help="lifetime"),
) -> None:
    """Mint a JWT for trying the API by hand (with SHOPFLOW_JWT_ISSUER/AUDIENCE when set)."""
    from datetime import timedelta

    settings = Settings()
    if role == "seller" and not seller_id:
        seller_id = sub
    try:
        print(
            mint_token(
                settings.effective_jwt_secret,
                sub=sub,
                role=role,
                ttl=timedelta(hours=hours),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                seller_id=seller_id,
                carrier=carrier,
                provider=provider,
            )
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command()
def events(
    service: str = typer.Argument("order", help="whose topic: shopflow.<service>.events"),
    seconds: float = typer.Option(5.0, help="how long to read"),
    full: bool = typer.Option(False, help="print whole envelopes"),
) -> None:
    """Print the events on a service's topic, from the beginning."""
    import asyncio

    from aiokafka import AIOKafkaConsumer

    settings = Settings()
    bootstrap = settings.kafka_bootstrap_servers or f"127.0.0.1:{settings.embedded_kafka_port}"

    async def read() -> None:
        consumer = AIOKafkaConsumer(
            settings.topic(service), bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        envelope = json.loads(record.value)
                        if full:
                            console.print_json(data=envelope)
                        else:
                            console.print(
                                f"{record.partition}:{record.offset:<6} "
                                f"{envelope['event_type']:<24} "
                                f"{envelope['stream_id']} v{envelope['stream_version']}",
                                highlight=False,
                            )
        finally:
            await consumer.stop()

    asyncio.run(read())


@app.command()
def schemas(out: Path = typer.Option(Path("docs/events"), help="where to write them")) -> None:
    """Write the events' JSON Schemas and the AsyncAPI document."""
    from shared.events.docs import write

    for path in write(out):
        console.print(f"wrote {path}")


@app.command()
def migrate(
    service: str = typer.Argument(..., help="the service"), url: str = typer.Option(...)
) -> None:
    """Run a service's migrations against a database URL."""
    upgrade(service, url)


if __name__ == "__main__":
    app()


_add_plugin_commands()
