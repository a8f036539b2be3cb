"""The rules engine (工作流): triggers, conditions and actions an admin puts together.

- ``models``: Rule, RuleFiring (once per record and occasion), RuleRun (the run log).
- ``entities``: what each kind of record offers rules (fields, dates, how to change it).
- ``conditions`` / ``actions``: checking and describing the parts; running the actions.
- ``engine``: events → rules, the time-based scan, dry runs, retries, loop protection.
- ``services`` / ``selectors``: the admin's writes and reads.
"""
