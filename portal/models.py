"""The wiring's own table: when each periodic duty last ran (``portal.periodic``)."""

from __future__ import annotations

from django.db import models


class DutyRun(models.Model):
    name = models.CharField(max_length=64, unique=True)
    last_run = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Duty {self.name} (last run {self.last_run})"
