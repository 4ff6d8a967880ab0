"""The YAML authoring format of the item bank (docs/item-format.md).

- :func:`load` / :func:`validate`: read the files under a path into frozen dataclasses
  (item_bank.model) and report every problem as ``path:line: field: message``;
- :func:`render`: the one function that turns stem, option and vignette markup into safe
  HTML for candidates (and staff);
- :func:`item_hash` / :func:`scenario_hash`: the content hashes that decide versions;
- :func:`write_programme`: the export, in the same format.

Pure: no Flask, no database.
"""

from item_bank.authoring.export import write_programme
from item_bank.authoring.hashing import item_hash, scenario_hash
from item_bank.authoring.loader import Batch, Source, load, load_programme, validate
from item_bank.authoring.markup import ImageSource, render
from item_bank.authoring.nodes import Problem

__all__ = [
    "Batch", "ImageSource", "Problem", "Source", "item_hash", "load", "load_programme",
    "render", "scenario_hash", "validate", "write_programme",
]
