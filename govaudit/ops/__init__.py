"""Operations: the distributed work queue and worker, and re-crawl preparation for resumed units.

The store lock lives in ``govaudit.lock``, nightly runs in ``govaudit.nightly``, retention in
``storage.retention``.
"""
