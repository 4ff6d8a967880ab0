"""Names from the IMS QTI 3.0 and Content Packaging specifications, and our own metadata.

The item bank's fields that QTI has no element for (domain, status, rationales, ...) travel
in the manifest's resource metadata, in the namespace :data:`IB`; docs/qti.md lists them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

QTI = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
LOM = "http://ltsc.ieee.org/xsd/LOM"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"
MATHML = "http://www.w3.org/1998/Math/MathML"
# Our metadata (no published schema: CP metadata admits other namespaces, processed laxly).
IB = "urn:exam-platform:item-bank:1"

QTI_SCHEMA = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
CP_SCHEMA = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd"
LOM_SCHEMA = "https://purl.imsglobal.org/spec/md/v1p3/schema/xsd/imsmd_loose_v1p3p2.xsd"
MATCH_CORRECT = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"

MANIFEST = "imsmanifest.xml"
ITEM_TYPE = "imsqti_item_xmlv3p0"
STIMULUS_TYPE = "imsqti_stimulus_xmlv3p0"
TEST_TYPE = "imsqti_test_xmlv3p0"
RESPONSE = "RESPONSE"
PRETEST = "pretest"  # the category of an unscored item reference in a test

ET.register_namespace("imsmd", LOM)
ET.register_namespace("ib", IB)
ET.register_namespace("xsi", XSI)


def q(name: str) -> str:
    """A QTI element name in Clark notation."""
    return f"{{{QTI}}}{name}"


def ib(name: str) -> str:
    return f"{{{IB}}}{name}"


def local(tag: object) -> str:
    """The local name of an element's tag ('' for comments and processing instructions)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: object) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].split("}", 1)[0]
