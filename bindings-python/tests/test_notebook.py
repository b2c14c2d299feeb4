"""The example notebook (examples/notebook/policy_audit.ipynb) runs headless,
top to bottom, with its own asserts, in a fresh kernel."""

from __future__ import annotations

import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "examples" / "notebook" / "policy_audit.ipynb"


def test_policy_audit_notebook_runs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    assert any("tessera-explanation" in o["data"]["text/html"] for o in html), "explain renders as a table"
    for css in ("tessera-who-can", "tessera-permissions", "tessera-diff", "tessera-suggestions"):
        assert any(css in o["data"]["text/html"] for o in html), f"{css} renders as a table"
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs), "the role graph renders as SVG"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "expired         -> expired" in text and "tampered        -> bad_signature" in text
