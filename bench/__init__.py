"""Benchmarks (DESIGN §5). ``make bench`` runs ``python -m bench``.

Each benchmark is a module ``bench/bench_<name>.py`` with a ``main()`` that generates its
own data deterministically, measures, and prints its figures (median and p95 over several
runs). ``python -m bench NAME …`` runs only the named ones (``import`` for
``bench_import``).
"""
