"""Background tasks of the core app.

djhuey imports the ``tasks`` module of every installed app when the worker starts; this
one also imports :mod:`guanxi.schedule`, the single place where periodic tasks live.
"""

from guanxi import schedule

__all__ = ["schedule"]
