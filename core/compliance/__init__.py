"""Contact rules: when, how often and whom the engine may contact.

``profiles`` holds the rule sets an administrator picks (``[compliance]``
in ``dunning.toml``); ``windows``, ``caps``, ``disclosure`` and ``risk`` are
pure functions; ``rules`` is the built-in plugin that applies them through
``check_action`` and ``escalation_check``, naming the rule in each verdict.
"""
