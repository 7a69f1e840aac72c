"""The built-in channel plugins. Each registers through the ``dunning`` entry-point group like any other."""
