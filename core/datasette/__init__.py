"""``dunning datasette``: the database opened read-only in Datasette, described, with canned queries.

Nothing here imports Datasette: the metadata is a plain dictionary, built from the schema's descriptions
(``descriptions``) and the canned queries (``queries``); ``dunning.cli_datasette`` hands it to Datasette.
"""
