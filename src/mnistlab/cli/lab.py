"""`mnistlab lab`: serve the local web app over a runs directory and open it in a browser."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import click

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
    from mnistlab.lab.server import lab_url, open_listener, serve

    path = Path(runs_dir)  # click has refused a file; a missing directory shows no runs until one starts
    token = None if is_loopback(host) else new_token()
    listener = open_listener(host, port)
    url = lab_url(host, listener.getsockname()[1], token)
    click.echo(f"mnistlab lab on {path.resolve()}: {url}  (Ctrl-C to stop; trainings keep running)")
    if token:
        click.echo("anyone who can reach this address and has the URL (with its token) can use the lab", err=True)
    if not no_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    serve(create_app(path, token=token), listener)


COMMANDS = [lab_command]
