"""Background jobs: plain functions run off the GUI thread, results delivered on it."""

from snowml_desktop.jobs.runner import ErrorInfo, JobHandle, JobManager, JobState

__all__ = ["ErrorInfo", "JobHandle", "JobManager", "JobState"]
