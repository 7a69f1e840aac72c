"""``dunning backtest``: replay policies over the same cases and compare what each would do.

``payment_model`` fits the observed rate of payment after a contact (pure), ``recovery`` turns a replay's
contacts into an expected recovery with seeded draws (pure), ``replay`` runs one policy on a copy of the
database as ``dunning simulate`` does, and ``compare`` puts the policies side by side.
"""
