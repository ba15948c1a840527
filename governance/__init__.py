from __future__ import annotations

import os

# Provena is parallel by processes: one examining process per core, Celery workers, process
# pools for matching and the face pass. BLAS threads inside each of them (OpenBLAS starts
# one per core and spins) only fight those processes: with two scan processes on two cores
# they halved the scan's speed. Set before anything imports numpy; child processes inherit
# it. An operator who wants BLAS threads sets these variables.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from governance.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
