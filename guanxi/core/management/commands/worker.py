"""``guanxi worker``: the background task worker (Huey consumer).

A thin wrapper over djhuey's ``run_huey``: same options (``--workers``, ``--worker-type``
…), with the defaults from ``settings.HUEY["consumer"]``. It loads every app's ``tasks``
module, hence :mod:`guanxi.schedule` and its periodic tasks.
"""

from __future__ import annotations

from huey.contrib.djhuey.management.commands.run_huey import Command as RunHueyCommand


class Command(RunHueyCommand):
    help = "Run the background task worker (periodic tasks included)."
