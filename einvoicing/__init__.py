"""The official e-invoice validator (SI-UBL 2.0 / NLCIUS, Peppol BIS 3, EN 16931, UBL 2.1 XSD).

    validator = Validator(default_rules_dir())
    result = validator.validate(xml_bytes)   # ValidationResult: verdict, findings, profile, document, root

See README.md in this folder for the profiles, the finding codes and the thread-safety notes.
"""

from einvoicing.profiles import DOCUMENT_TYPES, PROFILES, DocumentType, Profile
from einvoicing.validator import (
    ENV_RULES_DIR, CheckCode, ValidationResult, Validator, default_rules_dir, validate_files,
)

__all__ = [
    "DOCUMENT_TYPES", "ENV_RULES_DIR", "PROFILES", "CheckCode", "DocumentType", "Profile", "ValidationResult",
    "Validator", "default_rules_dir", "validate_files",
]
