"""The notebooks run top to bottom: ``notebooks/colab_tpu.ipynb`` on a CPU with 8 simulated
devices, executed by nbclient in a fresh kernel and a scratch working directory."""

from __future__ import annotations

import json
import pathlib

import pytest

from tests._multidevice import device_env

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "colab_tpu.ipynb"


def _stream_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> tuple[dict, list]:
    """The notebook run on 8 CPU devices; returns its ``summary`` and its cells."""
    import os

    workdir = tmp_path_factory.mktemp("notebook")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(
        nbformat.v4.new_code_cell("import json; print(json.dumps(summary, sort_keys=True))")
    )
    env = device_env(8, JAXDL_CACHE_DIR=str(workdir / "cache"), MPLBACKEND="Agg")
    previous = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client = nbclient.NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(workdir)}},
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(previous)
    summary = json.loads(_stream_text(notebook.cells[-1]).strip().splitlines()[-1])
    return summary, notebook.cells


def test_notebook_trains_on_all_8_devices_and_resumes(executed):
    summary, cells = executed
    assert summary["device_count"] == 8 and len(summary["devices"]) == 8
    assert summary["policy"] == "params=float32,compute=float32,output=float32"  # CPU
    assert summary["num_epochs"] == 20
    assert 0 < summary["restored_step"] < summary["final_step"]
    assert summary["final_step"] == 20 * (1437 // 64)
    first, final = summary["first_loss"], summary["final_loss"]
    assert final == final and final < 0.5 * first  # finite and falling
    assert summary["final_val_accuracy"] > 0.8
    assert "NamedSharding" in summary["parameter_sharding"]


def test_notebook_skips_the_install_and_lists_devices_and_plots(executed):
    _, cells = executed
    code = [c for c in cells if c.cell_type == "code"]
    assert "install skipped" in _stream_text(code[0])
    assert _stream_text(code[1]).startswith("8 cpu devices")
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1  # the loss curves, shown inline
