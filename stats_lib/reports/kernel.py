"""The ``site-stats`` Jupyter kernel the notebooks declare, and how report runs start it.

``make install`` (and the test setup) register the kernel into the virtual environment
(``python -m ipykernel install --sys-prefix --name site-stats``); ``ensure_kernel`` does the same on first use
when it is missing, so a report runs the notebooks in the interpreter that has ``stats_lib`` installed.

Report runs talk to their kernel over IPC sockets in a private temporary folder instead of TCP on localhost:
nothing listens on a port, and the kernel has no reason to warn about unencrypted TCP.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KERNEL_NAME = "site-stats"
DISPLAY_NAME = "site-stats"


def kernel_names() -> set[str]:
    from jupyter_client.kernelspec import KernelSpecManager

    return set(KernelSpecManager().find_kernel_specs())


def ensure_kernel() -> str:
    """The kernel name to run notebooks with: ``site-stats``, registered into ``sys.prefix`` when missing (the
    interpreter's own ``python3`` kernel when that folder is not writable)."""
    if KERNEL_NAME in kernel_names():
        return KERNEL_NAME
    from ipykernel.kernelspec import install

    try:
        install(kernel_name=KERNEL_NAME, display_name=DISPLAY_NAME, prefix=sys.prefix)
    except OSError:
        return "python3"
    return KERNEL_NAME


@contextmanager
def ipc_kernels() -> Iterator[dict]:
    """Keyword arguments for ``papermill.execute_notebook``: kernels started over IPC sockets in a private
    temporary folder (removed afterwards)."""
    from traitlets.config import Config

    with tempfile.TemporaryDirectory(prefix="site-stats-kernel-") as folder:
        config = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(folder) / "kernel")}})
        # "immediate": the executed notebook is complete when the last cell ends; a graceful shutdown over IPC
        # can race the kernel's own exit and make it log a KeyboardInterrupt.
        yield {"config": config, "shutdown_kernel": "immediate"}
