"""Smoke tests of the experiments, each run through the CLI's entry point."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

# the suite does not write into the user's persistent XLA cache
os.environ.setdefault("JAXDL_NO_XLA_CACHE", "1")


def run_smoke(name: str, workdir: str | os.PathLike, **overrides: Any) -> dict[str, Any]:
    """``jaxdl run NAME --config smoke --workdir WORKDIR [--set k=v ...]``, in process.

    Returns the summary the CLI wrote (the experiment's metrics plus the run's entries).
    """
    from jaxdl import cli

    sets = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in overrides.items()]
    path, summary = cli.run(
        name, config_name="smoke", overrides=sets, workdir=pathlib.Path(workdir)
    )
    assert json.loads((path / "summary.json").read_text()) == json.loads(json.dumps(summary))
    return summary
