"""Child processes that end with their parent, however the parent ends.

A process killed with SIGKILL runs no clean-up code, so its children must be told by the
kernel: Linux's PR_SET_PDEATHSIG sends them SIGTERM when the parent dies. It is set in the
child, just before it becomes the real program (it survives ``exec``), by a few lines of
Python: no ``preexec_fn``, which is unsafe in a process with threads.
"""

from __future__ import annotations

import os
import sys

_SHIM = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"  # 1: PR_SET_PDEATHSIG
    "if os.getppid() != int(sys.argv[1]):\n"  # the parent died before that: follow it now
    "    sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def dying_with_parent(command: list[str]) -> list[str]:
    """``command`` wrapped so that its process gets SIGTERM when this process dies.

    ``command[0]`` must be a path to the executable. Off Linux the command is returned
    as it is.
    """
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-I", "-S", "-c", _SHIM, str(os.getpid()), *command]
