"""The pure learning engine: frames in, proposals out (see README.md for the rules).

Entry points: ``cycle.run_cycle``, ``outcomes.resolve_outcomes``, ``diff.diff_sections``,
``health.assess_health``, ``reports.all_reports``.
"""
