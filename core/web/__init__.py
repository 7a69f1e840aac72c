"""The web console of ``dunning serve``: staff sign in and work their cases in a browser.

Nothing here is imported at CLI start-up: Starlette, uvicorn and argon2 load
only when ``dunning serve`` or ``dunning users`` runs. Every change a page
makes goes through the same operations as the command line, so it is the
same evidence event, with the signed-in person as who did it.
"""
