"""`mnistlab lab`: serve the local web app over a runs directory and open it in a browser."""

from __future__ import annotations

import contextlib
import signal
import threading
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import click

from mnistlab.errors import ConfigError


def lab_url(host: str, port: int, token: str | None) -> str:
    """The address to open: http://HOST:PORT/ with ?token=... when one is required."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


@click.command("lab")
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="The runs to show; trainings started from the page are recorded here too.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address requires the token printed in the URL.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; just print the URL.")
def lab_command(runs_dir: str, host: str, port: int, no_browser: bool) -> None:
    """The lab: watch runs train live, compare them, draw a digit, and look inside the MLP and the CNN.

    Example: mnistlab lab --runs-dir runs   (then open the printed URL; Ctrl-C stops the server,
    while trainings started from the page keep training: the next lab shows them and can stop them)
    """
    from mnistlab.lab import create_app
    from mnistlab.lab.security import is_loopback, new_token
    from mnistlab.lab.server import make_server, open_listener

    path = Path(runs_dir)  # click has refused a file; a missing directory shows no runs until one starts
    token = None if is_loopback(host) else new_token()
    try:
        listener = open_listener(host, port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port "
                          "(or --port 0 for any free one)") from None
    url = lab_url(host, listener.getsockname()[1], token)
    click.echo(f"mnistlab lab on {path.resolve()}: {url}  (Ctrl-C to stop; trainings keep running)")
    if token:
        click.echo("anyone who can reach this address and has the URL (with its token) can use the lab", err=True)
    if not no_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    with _ctrl_c_interrupts():
        make_server(create_app(path, token=token)).run(sockets=[listener])


@contextlib.contextmanager
def _ctrl_c_interrupts() -> Iterator[None]:
    """While the lab serves, SIGINT raises KeyboardInterrupt even if the parent ignored it.

    A shell's `cmd &` (and some CI runners) start a process with SIGINT ignored. Uvicorn stops on
    SIGINT all the same, then re-raises it to the handler it found: an ignored one would end the lab
    with exit code 0 instead of 130. Trainings started from the page then also inherit a SIGINT they
    can act on, so the page's stop button interrupts them rather than waiting to send SIGTERM.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


COMMANDS = [lab_command]
