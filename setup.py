"""Package discovery for the two source folders.

``package_dir`` maps ``dunning`` to ``core/`` and ``dunning.plugins`` to
``plugins/``; setup.cfg cannot express "find every sub-package under each
mapping", so setuptools' ``find_packages`` does it here and a new
sub-package (``dunning.compliance`` and the like) can never be left out of a
wheel. Everything else is declared in setup.cfg.
"""

from setuptools import find_packages, setup


def packages_under(folder: str, name: str) -> list[str]:
    return [name, *(f"{name}.{sub}" for sub in find_packages(folder))]


setup(packages=[*packages_under("core", "dunning"), *packages_under("plugins", "dunning.plugins")])
