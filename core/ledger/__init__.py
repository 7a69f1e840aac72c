"""The money side of a case beyond the single payment: bank statements, allocation, reversals, credits.

``settings`` reads ``[ledger]``; ``allocation`` is the pure rule that splits a
payment over a case's open items; ``statements`` (with ``camt053`` and
``mt940_statement``) reads bank files; ``matching`` finds the case a credit
pays; ``payments`` applies, reverses and refunds, each change with its
evidence event.
"""
