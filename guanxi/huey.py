"""The task queue. Huey is configured from settings.HUEY (SQLite by default, Redis with
REDIS_URL); every periodic task is registered in ``guanxi.schedule``."""

from huey.contrib.djhuey import HUEY as huey  # noqa: N811

__all__ = ["huey"]
