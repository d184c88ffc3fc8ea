"""Data contracts: domain types (pydantic) and the wire contracts (XSD/WSDL/OpenAPI) vangnet owns.

Nothing here imports other vangnet packages; everything else may import this.
"""
