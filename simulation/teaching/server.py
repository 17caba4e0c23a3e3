"""Serve the teaching page on this machine: `python run.py demo [--port P] [--scenario FILE]`.

Runs Solara's server in-process (uvicorn) in production mode, with Solara's telemetry off and
every front-end file served from the solara-assets package, so the page needs no internet.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Final

from simulation.model.scenario import ScenarioError, load_scenario, resolve_path
from simulation.teaching.lesson import STOP

HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8521
"""Mesa's customary visualisation port."""


class PortError(ValueError):
    """The port cannot be used (in use, or not allowed)."""


def check_port(host: str, port: int) -> None:
    """Fail early, with one clear message, when the port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as uvicorn binds: a port left in TIME_WAIT by a server just stopped is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            why = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used " \
                                                                            f"({exc.strerror})"
            raise PortError(f"--port {port} {why} on {host}; choose another port with "
                            "--port") from None


def check_scenario(path: str) -> tuple[str, str | None]:
    """The scenario file's path (ScenarioError if it does not exist) and, if its content is
    bad, the error the page will show (the page stays usable: it falls back to the baseline)."""
    found = resolve_path(path)
    try:
        load_scenario(found)
    except ScenarioError as exc:
        return str(found.resolve()), str(exc)
    return str(found.resolve()), None


def configure(scenario: str | None) -> None:
    """Settings that must be in place before Solara's server modules are imported."""
    os.environ["SOLARA_APP"] = "simulation.teaching.app"
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ.setdefault("SOLARA_THEME_VARIANT", "light")
    # no "This website runs on Solara" banner: it sits fixed over the page's bottom corner
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"
    # plain http on this machine is intended: Solara's advice for https deployments is noise
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    import solara.server.settings as settings

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    settings.theme.show_banner = False
    from simulation.teaching import app

    app.STARTUP["scenario"] = scenario


def serve(port: int = DEFAULT_PORT, scenario: str | None = None, host: str = HOST,
          announce: Callable[[str], None] = print) -> None:
    """Serve the page until Ctrl-C (returns then). Raises PortError or ScenarioError on bad
    input before anything starts."""
    check_port(host, port)
    path, problem = (None, None) if scenario is None else check_scenario(scenario)
    if problem:
        print(f"warning: {problem}\n(the page shows this error and the baseline; fix the file "
              "and press Reset on the page)", file=sys.stderr)
    configure(path)
    import uvicorn

    # Ctrl-C closes open pages after 2 s instead of waiting for every browser to leave
    config = uvicorn.Config("solara.server.starlette:app", host=host, port=port,
                            log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)

    def tell_when_ready() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            shown = f" ({Path(path).name})" if path else ""
            announce(f"Teaching page{shown}: http://{host}:{port}/  — press Ctrl-C to stop")

    threading.Thread(target=tell_when_ready, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after stopping
        server.run()
    STOP.set()
    close_sessions()
    announce("Teaching page stopped.")


def close_sessions() -> None:
    """Close every browser session's kernel (their widgets and tasks)."""
    from solara.server import kernel_context

    for context in list(kernel_context.contexts.values()):
        with contextlib.suppress(Exception):
            context.close()
