"""Run a snippet in a fresh interpreter that sees ``n`` simulated CPU devices.

XLA fixes the host device count when JAX's CPU backend starts, so the suite's own
interpreter (one device) cannot be switched to eight. :func:`run_on_devices` starts
``python -c SNIPPET`` with ``XLA_FLAGS=--xla_force_host_platform_device_count=n`` and
returns the JSON object the snippet prints as its last line of output. Each call costs an
interpreter start-up and the snippet's compilations, so batch the checks of a test module
into one snippet and share its result through a module-scoped fixture.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent


def device_env(num_devices: int, **extra: str) -> dict[str, str]:
    """The environment of a child process with ``num_devices`` CPU devices."""
    env = dict(os.environ)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if "device_count" not in f]
    env["XLA_FLAGS"] = " ".join([*flags, f"--xla_force_host_platform_device_count={num_devices}"])
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def run_on_devices(
    snippet: str, num_devices: int = 8, timeout: float = 600.0, **env: str
) -> dict[str, Any]:
    """Run ``snippet`` with ``num_devices`` simulated devices; return its last JSON line.

    Raises:
        AssertionError: when the child exits non-zero (its stderr is in the message) or
            prints no JSON object as its last line.
    """
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(snippet)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=device_env(num_devices, **env),
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, (
        f"child exited {completed.returncode}\nstdout:\n{completed.stdout[-3000:]}\n"
        f"stderr:\n{completed.stderr[-6000:]}"
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    assert lines, f"child printed nothing; stderr:\n{completed.stderr[-3000:]}"
    return json.loads(lines[-1])
