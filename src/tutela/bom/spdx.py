"""The frame of a Tutela SPDX 3.0.1 document: namespace, creation info, the SBOM and document.

Both SPDX exports (the inventory's AI-BOM and an AI Card) subclass ``SpdxScaffold``, add
their own elements and close with ``objects()``, so the creation info, the CC0 data licence
and the profile conformance are written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from spdx_python_model import v3_0_1 as spdx

__all__ = ["NO_ASSERTION_LICENSE", "SPDX_SPEC_VERSION", "SpdxScaffold"]

SPDX_SPEC_VERSION = "3.0.1"
NO_ASSERTION_LICENSE = "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/NoAssertionLicense"
_PROFILES = ("core", "software", "simpleLicensing", "ai", "dataset")


class SpdxScaffold:
    """A document's namespace and creation info (agent Tutela, tool ``tutela <version>``)."""

    def __init__(self, serial: str, created: datetime, tool_version: str) -> None:
        self.base = f"urn:tutela:spdx:{serial}:"
        self.info = spdx.CreationInfo(
            specVersion=SPDX_SPEC_VERSION, created=created.astimezone(UTC).replace(microsecond=0)
        )
        self.agent = spdx.SoftwareAgent(
            spdxId=self.id("agent", "tutela"), name="Tutela", creationInfo=self.info
        )
        self.tool = spdx.Tool(
            spdxId=self.id("tool", "tutela"), name=f"tutela {tool_version}", creationInfo=self.info
        )
        self.info.createdBy.append(self.agent)
        self.info.createdUsing.append(self.tool)

    def id(self, *parts: str) -> str:
        return self.base + "/".join(quote(p, safe="") for p in parts)

    def relationship(
        self, source: spdx.Element, kind: str, target: spdx.Element | str, key: Sequence[str]
    ) -> spdx.Relationship:
        """``source kind target``; ``key`` makes its id unique within the document."""
        return spdx.Relationship(
            spdxId=self.id("relationship", *key),
            creationInfo=self.info,
            from_=source,
            relationshipType=getattr(spdx.RelationshipType, kind),
            to=[target],
        )

    def objects(
        self, *, name: str, root: spdx.Element, members: Sequence[spdx.Element], comment: str
    ) -> spdx.SHACLObjectSet:
        """The analysed SBOM rooted at ``root`` and the CC0 document around it."""
        sbom = spdx.software_Sbom(
            spdxId=self.id("sbom"),
            creationInfo=self.info,
            software_sbomType=[spdx.software_SbomType.analyzed],
            rootElement=[root],
            element=list(members),
        )
        document = spdx.SpdxDocument(
            spdxId=self.id("document"),
            name=name,
            creationInfo=self.info,
            dataLicense=spdx.simplelicensing_LicenseExpression(
                spdxId=self.id("license", "CC0-1.0"),
                creationInfo=self.info,
                simplelicensing_licenseExpression="CC0-1.0",
            ),
            profileConformance=[getattr(spdx.ProfileIdentifierType, p) for p in _PROFILES],
            rootElement=[sbom],
            element=[sbom, *members, self.agent, self.tool],
            comment=comment,
        )
        return spdx.SHACLObjectSet([document, sbom, self.agent, self.tool, *members])
