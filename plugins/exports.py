"""Writing departmental integrations' daily files: atomically, once per day, recorded.

For every enabled departmental integration, ``exports_run`` asks the plugin
for the day's files (``ims_export_files``) and writes them under
``settings.EXPORT_ROOT/<council code>/<integration key>/``.

- Atomic: every file is first written in full to a hidden temporary file in
  the same folder and flushed to disk; only when all of an integration's
  files are written are they renamed into place (``os.replace``, which a
  reader sees happen at once). A failure before that removes the temporary
  files and records no run, so a department never picks up half a file or
  half a day.
- Once: a day already written is skipped unless ``rerun=True``. The run is
  recorded (and its unique attempt number claimed) before anything is
  written, in the same transaction, so two runs racing for one day cannot
  both write.
- Re-runs: the new files take the usual names, so the department's system
  picks them up as it always does; a file of the same name still in the
  folder from the earlier attempt is kept, moved to
  ``superseded/<day>/attempt-<n>/``. Each attempt's record keeps the
  SHA-256 of what it wrote.
- One integration failing (a plugin raising, a disk full) is logged and
  reported, and the others are still written.
"""

import datetime
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django_tasks import task

from .manager import PluginNotInstalled, call, plugin_info
from .models import ExportRun, Integration
from .types import ExportFile, PluginKind

logger = logging.getLogger(__name__)


class ExportError(Exception):
    """A plugin's files could not be written; nothing of that integration's day was."""


@dataclass
class ExportOutcome:
    """What happened to one integration's day: written, skipped (done before) or failed."""

    integration: Integration
    day: datetime.date
    status: str  # "written", "skipped" or "failed"
    run: ExportRun | None = None
    message: str = ""
    paths: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "council": self.integration.organisation.code,
            "integration": self.integration.key,
            "day": self.day.isoformat(),
            "status": self.status,
            "attempt": self.run.attempt if self.run else None,
            "files": [str(path) for path in self.paths],
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"{self.integration.organisation.code}/{self.integration.key} {self.day}"
        if self.status == "written":
            attempt = f" (re-run, attempt {self.run.attempt})" if self.run.attempt > 1 else ""
            names = ", ".join(path.name for path in self.paths) or "no files"
            return f"{where}: wrote {names}{attempt}"
        if self.status == "skipped":
            return f"{where}: already written; use --rerun to write it again"
        return f"{where}: FAILED: {self.message}"


def export_folder(integration: Integration) -> Path:
    """Where an integration's files go: EXPORT_ROOT/<council code>/<integration key>/."""
    return Path(settings.EXPORT_ROOT) / integration.organisation.code / integration.key


def departmental_integrations(organisation=None):
    """The enabled integrations of departmental plugins (of one council, or of every active one)."""
    integrations = (
        Integration.objects.enabled()
        .filter(organisation__is_active=True)
        .select_related("organisation")
        .order_by("organisation__code", "key")
    )
    if organisation is not None:
        integrations = integrations.filter(organisation=organisation)
    found = []
    for integration in integrations:
        try:
            kinds = plugin_info(integration.plugin).kinds
        except PluginNotInstalled:
            logger.error(
                "Integration %s of %s uses plugin %s, which is not installed.",
                integration.key,
                integration.organisation.code,
                integration.plugin,
            )
            continue
        if PluginKind.DEPARTMENTAL in kinds:
            found.append(integration)
    return found


def _export_files(integration: Integration, day: datetime.date) -> list[ExportFile]:
    """Ask the integration's plugin (and only it) for the day's files."""
    return list(
        call(integration.plugin, "ims_export_files", integration=integration, day=day) or []
    )


def _check_name(filename: str) -> str:
    if (
        not filename
        or filename != os.path.basename(filename)
        or "\\" in filename
        or filename.startswith(".")
        or filename == "superseded"
    ):
        raise ExportError(f"'{filename}' is not a plain file name; nothing was written.")
    return filename


def _stage(folder: Path, export: ExportFile) -> Path:
    """Write the file's bytes to a temporary file beside where it will go, flushed to disk."""
    descriptor, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{export.filename}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(export.content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def _sync_folder(folder: Path) -> None:
    # A rename is only on disk once the folder itself is flushed.
    if hasattr(os, "O_DIRECTORY"):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _publish(folder: Path, staged: list[tuple[ExportFile, Path]], run: ExportRun) -> list[Path]:
    """Rename staged files into place, keeping any earlier attempt's file of the same name.

    Should a rename fail part way, the files already renamed are taken back
    (and earlier attempts' files put back), so the folder is as it was.
    """
    kept_folder = folder / "superseded" / run.day.isoformat() / f"attempt-{run.attempt - 1}"
    done: list[tuple[Path, Path | None]] = []
    try:
        for export, temporary in staged:
            target = folder / export.filename
            kept = None
            if run.attempt > 1 and target.exists():
                kept_folder.mkdir(parents=True, exist_ok=True)
                kept = kept_folder / export.filename
                os.replace(target, kept)
            try:
                os.replace(temporary, target)
            except BaseException:
                if kept is not None:
                    os.replace(kept, target)
                raise
            done.append((target, kept))
    except BaseException:
        for target, kept in reversed(done):
            if kept is not None:
                os.replace(kept, target)
            else:
                target.unlink(missing_ok=True)
        raise
    _sync_folder(folder)
    return [target for target, _kept in done]


def _next_attempt(integration: Integration, day: datetime.date) -> tuple[int, ExportRun | None]:
    runs = ExportRun.objects.filter(
        organisation_id=integration.organisation_id, integration=integration, day=day
    )
    last = runs.aggregate(last=Max("attempt"))["last"]
    if last is None:
        return 1, None
    return last + 1, runs.get(attempt=1)


def _export_one(integration: Integration, day: datetime.date, *, rerun: bool) -> ExportOutcome:
    folder = export_folder(integration)
    staged: list[tuple[ExportFile, Path]] = []
    try:
        with transaction.atomic():
            attempt, first = _next_attempt(integration, day)
            if attempt > 1 and not rerun:
                return ExportOutcome(integration, day, "skipped", run=first)
            try:
                with transaction.atomic():
                    run = ExportRun.objects.create(
                        organisation_id=integration.organisation_id,
                        integration=integration,
                        day=day,
                        attempt=attempt,
                        rerun_of=first,
                        folder=str(folder),
                    )
            except IntegrityError:
                # Another run claimed this attempt a moment ago and has written it.
                return ExportOutcome(integration, day, "skipped")
            files = _export_files(integration, day)
            names = [_check_name(export.filename) for export in files]
            if len(set(names)) != len(names):
                raise ExportError("The plugin gave two files the same name; nothing was written.")
            folder.mkdir(parents=True, exist_ok=True)
            for export in files:
                staged.append((export, _stage(folder, export)))
            paths = _publish(folder, staged, run)
            staged = []
            run.files = [
                {
                    "filename": export.filename,
                    "sha256": hashlib.sha256(export.content).hexdigest(),
                    "rows": export.rows,
                    "bytes": len(export.content),
                }
                for export in files
            ]
            run.save(update_fields=["files"])
        return ExportOutcome(integration, day, "written", run=run, paths=paths)
    except Exception as error:
        logger.exception(
            "Export of %s/%s for %s failed.", integration.organisation.code, integration.key, day
        )
        return ExportOutcome(integration, day, "failed", message=str(error) or type(error).__name__)
    finally:
        for _export, temporary in staged:
            temporary.unlink(missing_ok=True)


def exports_run(
    *, organisation=None, day: datetime.date, rerun: bool = False
) -> list[ExportOutcome]:
    """Write the day's files of every enabled departmental integration (of one council, or all).

    Returns one ``ExportOutcome`` per integration. A day already written is
    skipped unless ``rerun``; a failure in one integration is logged and
    reported in its outcome, and the others go on.
    """
    return [
        _export_one(integration, day, rerun=rerun)
        for integration in departmental_integrations(organisation)
    ]


@task()
def exports_run_task(day_iso: str, rerun: bool = False) -> list[dict]:
    """The background task: write every council's departmental files for the day given."""
    outcomes = exports_run(day=datetime.date.fromisoformat(day_iso), rerun=rerun)
    for outcome in outcomes:
        log = logger.error if outcome.status == "failed" else logger.info
        log("%s", outcome)
    return [outcome.as_dict() for outcome in outcomes]
