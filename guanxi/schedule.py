"""Every periodic task of Guanxi, in one place.

The worker (``guanxi worker``, also started by ``guanxi serve``) runs these on the
schedule given by ``crontab`` (times are in ``settings.TIME_ZONE``, Asia/Shanghai by
default). Huey finds this module because ``guanxi/core/tasks.py`` imports it (djhuey
imports the ``tasks`` module of every installed app).

How an app adds a time-based rule (reclaiming leads to the public pool, SLA checks,
reminders …): write the work as a plain function in the app's ``services.py`` (so it is
testable without the queue), then register it here, nowhere else::

    @db_periodic_task(crontab(minute="*/5"))
    def leads_reclaim_overdue() -> int:
        from guanxi.leads.services import reclaim_overdue  # import inside: keeps start-up light

        return reclaim_overdue(now=timezone.now())

Rules: one task per rule, named ``<app>_<what>``; import the app's code inside the task;
make the work idempotent and safe to run late or twice (a worker may have been down);
return a small summary (count) that tests can check. In tests Huey runs in immediate mode,
so calling the task runs it at once.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.models import Session
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

logger = logging.getLogger("guanxi.schedule")


@db_periodic_task(crontab(hour="3", minute="17"))
def housekeeping_purge_sessions() -> int:
    """Delete expired login sessions (what ``clearsessions`` does), daily at 03:17."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    logger.info("purged %s expired sessions", deleted)
    return deleted


@db_periodic_task(crontab(day_of_week="0", hour="3", minute="47"))
def housekeeping_flush_task_results() -> int:
    """Drop task results nobody collected, weekly (Sunday 03:47).

    Huey keeps a task's return value until someone reads it; fire-and-forget tasks would
    otherwise pile results up in ``var/tasks.sqlite3`` (or Redis) forever. Code that needs
    a result reads it within seconds, never days later.
    """
    count = HUEY.result_count()
    HUEY.storage.flush_results()
    logger.info("flushed %s stored task results", count)
    return int(count)


@db_periodic_task(crontab(minute="*"))
def activities_send_due_reminders() -> int:
    """Notify assignees of tasks that have fallen due, every minute (each task once)."""
    from guanxi.activities.services import tasks_send_due_reminders

    return tasks_send_due_reminders(timezone.now())


@db_periodic_task(crontab(hour="4", minute="7"))
def housekeeping_optimize_database() -> str:
    """Refresh the query planner's statistics daily at 04:07.

    Without them both databases pick poor plans for scoped list pages once tables grow
    (measured: a subtree list at 300k leads went from ~1 s to ~20 ms after ANALYZE).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")
        else:
            cursor.execute("ANALYZE")
    return connection.vendor


@db_periodic_task(crontab(minute="23"))
def leads_reclaim_to_pool() -> int:
    """Apply the public-pool reclaim rules hourly: warn owners ahead, reclaim due leads."""
    from guanxi.leads.pool import leads_reclaim_due

    return leads_reclaim_due(timezone.now())


@db_periodic_task(crontab(minute="41"))
def leads_refresh_due_scores() -> int:
    """Hourly: rescore leads whose "contacted within N days" scoring condition ran out."""
    from guanxi.leads.scoring import leads_rescore

    return leads_rescore(due_before=timezone.now())


@db_periodic_task(crontab(hour="0", minute="23"))
def sales_expire_quotes() -> int:
    """Mark approved or sent quotes past their validity as expired, daily at 00:23."""
    from guanxi.sales.quotes.services import quotes_expire_due

    return quotes_expire_due(timezone.localdate())


@db_periodic_task(crontab(minute="27"))
def accounts_reclaim_to_pool() -> int:
    """Apply the account reclaim rules hourly: warn owners ahead, reclaim due accounts."""
    from guanxi.leads.pool import accounts_reclaim_due

    return accounts_reclaim_due(timezone.now())


@db_periodic_task(crontab(hour="1", minute="5"))
def finance_expire_contracts() -> int:
    """Mark active contracts past their end date as expired, daily at 01:05."""
    from guanxi.finance.reminders import contracts_expire

    return contracts_expire(today=timezone.localdate())


@db_periodic_task(crontab(hour="8", minute="10"))
def finance_renewal_tasks() -> int:
    """Renewal tasks for contracts ending within the configured days, daily at 08:10."""
    from guanxi.finance.reminders import contracts_create_renewal_tasks

    return contracts_create_renewal_tasks(now=timezone.now())


@db_periodic_task(crontab(hour="8", minute="20"))
def finance_overdue_reminders() -> int:
    """Remind owners of overdue installments (once per installment and aging bucket)."""
    from guanxi.finance.reminders import installments_remind_overdue

    return installments_remind_overdue(now=timezone.now())
