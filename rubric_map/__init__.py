"""Rubrics as data (rubrics/*.yaml) and the one engine that turns findings into indicator scores.

Entry points: ``loader.list_rubrics``, ``loader.load_rubric``, ``engine.score_site``, ``engine.score_run``,
``explain.format_scores``, ``explain.format_rubric``.
"""
