"""Namespace and algorithm URIs used by the Digikoppeling WUS profiles."""

from __future__ import annotations

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
"""WS-Addressing 1.0 (W3C Recommendation 2006/05), the only version Digikoppeling allows."""
WSA_ANONYMOUS = f"{WSA}/anonymous"
WSA_REPLY = f"{WSA}/reply"
WSA_FAULT_ACTION = f"{WSA}/soap/fault"
WSAM = "http://www.w3.org/2007/05/addressing/metadata"
WSDL = "http://schemas.xmlsoap.org/wsdl/"

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

OIN_URI_PREFIX = "http://www.logius.nl/oin/"

WSU_ID = f"{{{WSU}}}Id"


def q(ns: str, local: str) -> str:
    """Clark notation ``{ns}local``."""
    return f"{{{ns}}}{local}"
