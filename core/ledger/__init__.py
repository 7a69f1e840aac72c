"""The money side of a case beyond the single payment: allocation, bank statements, interest, fees, settlements.

``settings`` reads ``[ledger] allocation``; ``allocation`` is the pure rule that splits a
payment over a case's open items; ``statements`` (with ``camt053`` and
``mt940_statement``) reads bank files; ``matching`` finds the case a credit
pays; ``payments`` applies, reverses and refunds, each change with its
evidence event. ``interest_rules`` holds the interest rules (pure functions),
``rates`` reference rates with their validity dates, ``interest_settings`` the
interest keys of ``[ledger]``, ``accrual`` what a run posts, ``settlement``
offers and their fate.
"""
