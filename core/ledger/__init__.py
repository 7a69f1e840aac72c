"""Interest, fees and settlements on arrears: a ledger kept apart from principal.

``interest_rules`` holds the rules (pure functions), ``rates`` reference
rates with their validity dates, ``interest_settings`` the ``[ledger]``
table, ``accrual`` what a run posts, ``settlement`` offers and their fate.
"""
