"""IMS QTI 3.0 content packages: the bank's exchange format with TAO and other QTI systems.

- :func:`write_package`: items, scenario sets (as shared stimuli) and forms (as tests) to a
  zip with ``imsmanifest.xml``;
- :func:`open_package` / :func:`read_package`: a package back into the authoring batch
  (validated exactly as authored YAML) and forms, with every problem and every unsupported
  feature reported as ``package.zip:path/in/zip: field: message``.

The mapping is documented in docs/qti.md. Pure: no Flask, no database.
"""

from item_bank.qti.forms import FormSlot, FormSpec
from item_bank.qti.reader import (
    Package,
    PackageError,
    QtiProblem,
    open_package,
    read_package,
)
from item_bank.qti.writer import Written, write_package

__all__ = [
    "FormSlot", "FormSpec", "Package", "PackageError", "QtiProblem", "Written",
    "open_package", "read_package", "write_package",
]
