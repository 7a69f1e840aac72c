"""The debtors' page, without the web: links, what the page shows, what a debtor may do, and payment providers.

Each module is one idea, and none serves HTTP: the web app mounts them.

- ``links``: signed, expiring links per case (``[portal]`` in dunning.toml).
- ``page``: what the page shows (the items overdue and due later, interest and fees, the reference to pay with).
- ``actions``: what a debtor does there (open it, promise, ask for more time or a plan, dispute an item,
  opt out), each through the operation the command line uses, each an event by the portal.
- ``providers`` and ``payments``: the ``register_payment_providers`` hook's providers, starting a payment
  and recording its signed confirmation once.
- ``loopback_provider``: a provider that runs on 127.0.0.1, for tests and demonstrations.
"""

from __future__ import annotations

# Who the evidence says acted, for everything done through the page.
BY = "portal"
