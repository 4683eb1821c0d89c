"""An embedded MQTT broker for the demo: Mosquitto when installed, else amqtt.

Either way the broker is a real MQTT server in a child process on a free loopback
port; :meth:`EmbeddedBroker.stop` ends it, and it ends with the viewer if the viewer is
killed.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from viewer.live.children import dying_with_parent


def mosquitto_path() -> str | None:
    """The Mosquitto executable (Debian installs it in /usr/sbin, off a user's PATH)."""
    return shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0, process: subprocess.Popen | None = None) -> None:
    """Wait until something accepts connections on ``127.0.0.1:port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"broker exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class EmbeddedBroker:
    """A private MQTT broker on ``127.0.0.1``.

    Parameters
    ----------
    port : int, optional
        Port to listen on; a free one by default.
    prefer : {"mosquitto", "amqtt"}
        Which broker to run when both are available.
    """

    def __init__(self, port: int | None = None, prefer: str = "mosquitto"):
        self.port = port or free_port()
        self.kind = "mosquitto" if prefer == "mosquitto" and mosquitto_path() else "amqtt"
        self._process: subprocess.Popen | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT``."""
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedBroker:
        """Start the broker and wait until it accepts connections."""
        self._tmp = tempfile.TemporaryDirectory(prefix="twinview-broker-")
        if self.kind == "mosquitto":
            conf = Path(self._tmp.name) / "mosquitto.conf"
            # `user`: run as whoever we are. Run as root, Mosquitto would otherwise switch to its
            # own user, and the kernel forgets to end it with us when credentials change.
            conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                            f"user {getpass.getuser()}\n")
            cmd = [mosquitto_path(), "-c", str(conf)]
        else:
            cmd = [sys.executable, "-m", "viewer.live.amqtt_broker", str(self.port)]
        # The broker's log goes to a file: a pipe nobody reads would fill up and stall it.
        log = Path(self._tmp.name) / "broker.log"
        with open(log, "wb") as out:
            self._process = subprocess.Popen(dying_with_parent(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        try:
            wait_for_port(self.port, process=self._process)
        except (RuntimeError, TimeoutError) as exc:
            tail = log.read_text(errors="replace")[-500:]
            self.stop()
            raise RuntimeError(f"{self.kind} broker did not start: {exc} {tail}".strip()) from None
        return self

    def stop(self) -> None:
        """Stop the broker process and remove its files."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
