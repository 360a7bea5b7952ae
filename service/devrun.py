"""`make run`: the web server and the outbound worker together, as one command; one Ctrl-C stops both.

    python -m service.devrun --host 127.0.0.1 --port 5000

Starts `flask run` and `flask worker` (the console sender in development: texts are "delivered"
to this terminal, masked, and show in the browser phone and the portal). When either stops, the
other is stopped too, so a crashed worker never leaves a web server that queues texts nobody
sends. Ctrl-C (SIGINT) or SIGTERM stops both and exits 0; a child that stopped by itself makes the
exit status non-zero. Development only: production runs the Procfile's `web` and `worker`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

STOP_GRACE = 10.0  # seconds a child gets to finish (the worker finishes its current text)


class _Stop(Exception):
    """Ctrl-C or SIGTERM reached the launcher."""


def _raise_stop(signum, _frame):
    raise _Stop(signum)


def commands(host: str, port: int) -> dict[str, list[str]]:
    flask = [sys.executable, "-m", "flask", "--app", "service"]
    return {"web": flask + ["run", "--host", host, "--port", str(port)], "worker": flask + ["worker"]}


def environment(host: str, port: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The children's environment: links and Twilio-style signatures use the port actually served."""
    env = dict(os.environ if base is None else base)
    env.setdefault("PUBLIC_BASE_URL", f"http://{'localhost' if host == '0.0.0.0' else host}:{port}")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run(host: str, port: int) -> int:
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    env = environment(host, port)
    children: dict[int, tuple[str, subprocess.Popen]] = {}
    code = 0
    try:
        for name, argv in commands(host, port).items():
            proc = subprocess.Popen(argv, env=env)
            children[proc.pid] = (name, proc)
        print(f"run: web pid {_pid(children, 'web')}, worker pid {_pid(children, 'worker')}; "
              "Ctrl-C stops both", flush=True)
        pid, status = os.wait()  # blocks until the first child ends (or a signal raises _Stop)
        name, proc = children.pop(pid)
        proc.returncode = os.waitstatus_to_exitcode(status)
        print(f"run: the {name} stopped (exit {proc.returncode}); stopping the rest", flush=True)
        code = proc.returncode or 1
    except _Stop:
        print("\nrun: stopping the web server and the worker", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan a child
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop_all([proc for _name, proc in children.values()])
    return code


def _pid(children: dict[int, tuple[str, subprocess.Popen]], wanted: str) -> int:
    return next(pid for pid, (name, _proc) in children.items() if name == wanted)


def _stop_all(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    return run(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
