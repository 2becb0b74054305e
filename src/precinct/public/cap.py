"""OASIS CAP 1.2 documents: built with lxml, checked against the official XSD, signed (XML Signature).

The schema is the OASIS file shipped in ``xsd/CAP-v1.2.xsd`` (see the README beside it). Signatures
are enveloped XML Signatures (RSA-SHA256, SHA-256 digests, exclusive canonicalisation) made with
:mod:`signxml`; the ``ds:Signature`` element is the last child of ``<alert>``, where the CAP schema
allows it. The agency's key and certificate come from the settings or are generated once into
``<data_dir>/public/`` (:func:`signing_material`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from precinct.config import Settings
from precinct.errors import BadInput, ConfigurationError

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XSD_PATH = Path(__file__).resolve().parent / "xsd" / "CAP-v1.2.xsd"
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
              "CBRNE", "Other")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel")
TEXT_FIELDS = ("event", "headline", "description", "instruction")


def cap_time(value: dt.datetime) -> str:
    """A CAP date-time: seconds, explicit offset, no ``Z`` and no fraction (the schema's pattern)."""
    if value.tzinfo is None:
        raise ValueError("CAP times need a timezone")
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()


@lru_cache(maxsize=1)
def schema() -> Any:
    """The OASIS CAP 1.2 schema (parsed once a process)."""
    import xmlschema

    return xmlschema.XMLSchema(str(XSD_PATH))


def validate(document: bytes | etree._Element) -> None:
    """Check a CAP document against the official CAP 1.2 schema.

    Raises
    ------
    BadInput
        With the schema's reasons (element path and what is wrong), at most five of them.
    """
    root = etree.fromstring(document) if isinstance(document, bytes) else document
    errors = list(schema().iter_errors(root))
    if errors:
        reasons = [f"{e.path or '/'}: {e.reason}" for e in errors[:5]]
        raise BadInput(f"not a valid CAP 1.2 document: {reasons[0]}", detail={"schema_errors": reasons})


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{CAP_NS}}}{name}")
    if text is not None:
        el.text = text
    return el


def build(alert: dict[str, Any], *, sender: str, sender_name: str, sent: dt.datetime,
          references: list[str], status: str | None = None, note: str | None = None) -> etree._Element:
    """Build an unsigned ``<alert>`` from an alert's fields.

    Parameters
    ----------
    alert
        ``id``, ``msg_type``, ``cap_status``, ``category``, ``urgency``, ``severity``, ``certainty``,
        ``texts`` ({language: {event, headline, description, instruction}}), ``area`` (see
        :mod:`precinct.public.areas`), ``onset`` and ``expires`` (datetimes or None).
    sender, sender_name
        The agency (CAP ``<sender>``, ``<senderName>``).
    sent
        The time of publication.
    references
        Earlier messages this one updates or cancels, each ``"sender,identifier,sent"``.
    status
        Overrides ``cap_status`` (``"Draft"`` for an unapproved preview).
    note
        CAP ``<note>`` (the reason of a cancellation).
    """
    from precinct.public import areas

    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(root, "identifier", alert["id"])
    _sub(root, "sender", sender)
    _sub(root, "sent", cap_time(sent))
    _sub(root, "status", status or alert["cap_status"])
    _sub(root, "msgType", alert["msg_type"])
    _sub(root, "scope", "Public")
    if note:
        _sub(root, "note", note)
    if references:
        _sub(root, "references", " ".join(references))
    if alert["msg_type"] == "Cancel":
        return root
    area = alert["area"]
    for lang, texts in alert["texts"].items():
        info = _sub(root, "info")
        _sub(info, "language", lang)
        _sub(info, "category", alert["category"])
        _sub(info, "event", texts.get("event"))
        _sub(info, "responseType", "Monitor")
        _sub(info, "urgency", alert["urgency"])
        _sub(info, "severity", alert["severity"])
        _sub(info, "certainty", alert["certainty"])
        if alert.get("onset"):
            _sub(info, "onset", cap_time(alert["onset"]))
        if alert.get("expires"):
            _sub(info, "expires", cap_time(alert["expires"]))
        _sub(info, "senderName", sender_name)
        for name in ("headline", "description", "instruction"):
            if texts.get(name):
                _sub(info, name, texts[name])
        el = _sub(info, "area")
        _sub(el, "areaDesc", area["desc"].get(lang) or next(iter(area["desc"].values())))
        if area["kind"] == "circle":
            _sub(el, "circle", areas.cap_circle(area))
        else:
            _sub(el, "polygon", areas.cap_polygon(area))
    return root


# --- signing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SigningMaterial:
    """The agency's private key and certificate (PEM)."""

    key_pem: bytes
    cert_pem: bytes


def _generate(key_path: Path, cert_path: Path, common_name: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Precinct")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def signing_material(settings: Settings) -> SigningMaterial:
    """The key and certificate that sign alerts.

    ``public_signing_key`` and ``public_signing_cert`` from the settings when both are set; else a
    2048-bit RSA key and a self-signed certificate generated on first use into
    ``<data_dir>/public/`` (the key readable by its owner only) and reused afterwards.

    Raises
    ------
    ConfigurationError
        Only one of the two settings is given, or a file cannot be read.
    """
    key_path, cert_path = settings.public_signing_key, settings.public_signing_cert
    if (key_path is None) != (cert_path is None):
        raise ConfigurationError("set both PRECINCT_PUBLIC_SIGNING_KEY and PRECINCT_PUBLIC_SIGNING_CERT, or neither")
    if key_path is None or cert_path is None:
        folder = Path(settings.data_dir) / "public"
        key_path, cert_path = folder / "cap-signing-key.pem", folder / "cap-signing-cert.pem"
        if not key_path.exists():
            with contextlib.suppress(FileExistsError):  # another process generated it first
                _generate(key_path, cert_path, settings.public_sender)
    try:
        return SigningMaterial(key_pem=key_path.read_bytes(), cert_pem=cert_path.read_bytes())
    except OSError as exc:
        raise ConfigurationError(f"cannot read the CAP signing key or certificate: {exc}") from None


def sign(root: etree._Element, material: SigningMaterial) -> bytes:
    """Sign ``root`` (enveloped XML Signature with the certificate in ``KeyInfo``); the document's bytes."""
    from signxml import XMLSigner
    from signxml.algorithms import CanonicalizationMethod, SignatureConstructionMethod

    signer = XMLSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm="rsa-sha256",
                       digest_algorithm="sha256",
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signer.namespaces = {"ds": DS_NS}
    signed = signer.sign(root, key=material.key_pem, cert=material.cert_pem.decode("ascii"))
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def verify(document: bytes, cert_pem: bytes) -> etree._Element:
    """Verify the document's signature against ``cert_pem``; the signed ``<alert>``.

    Raises
    ------
    BadInput
        No signature, or it does not verify (the document was changed, or another key signed it).
    """
    from signxml import XMLVerifier
    from signxml.exceptions import InvalidInput, InvalidSignature

    try:
        result = XMLVerifier().verify(document, x509_cert=cert_pem.decode("ascii"))
    except (InvalidSignature, InvalidInput) as exc:
        raise BadInput(f"the CAP document's signature does not verify: {exc}") from None
    signed: etree._Element = result.signed_xml  # type: ignore[union-attr]
    return signed
