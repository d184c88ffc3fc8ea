"""A Prefect progress artifact for a backlog that takes more than one batch (operators watch it fill)."""

from __future__ import annotations


class BatchProgress:
    """Progress of `total` records worked off in batches of `batch_size`, as artifact `key`.

    Nothing is published for a backlog that fits in one batch: one bar per run would only be noise.
    """

    def __init__(self, key: str, total: int, batch_size: int, what: str) -> None:
        self.total, self.done, self.what = total, 0, what
        self.artifact_id = None
        if total > batch_size:
            from prefect.artifacts import create_progress_artifact

            self.artifact_id = create_progress_artifact(progress=0.0, key=key,
                                                        description=f"{what}: 0 of {total}")

    def advance(self, n: int) -> None:
        """`n` more records done."""
        self.done += n
        if self.artifact_id is not None:
            from prefect.artifacts import update_progress_artifact

            done = min(self.done, self.total)
            update_progress_artifact(self.artifact_id, progress=round(100 * done / self.total, 1),
                                     description=f"{self.what}: {done} of {self.total}")
