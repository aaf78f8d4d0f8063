"""PubChem PUG REST, as the test server speaks it.

Grammar: ``/compound/<namespace>/<identifiers>/<operation>/<output>``, where any path
element may move into a form-encoded POST body instead (``POST /compound/name/cids/JSON``
with ``name=...``). Faithful points the resolvers must cope with: the 2025 property keys
(``SMILES``/``ConnectivitySMILES`` even when the old names are asked for), molecular weight
as a string, XLogP missing for some compounds, names mapping to several CIDs, ``Fault``
JSON with PubChem's codes, InChI accepted by POST only, and CID 0 for a valid SMILES that is
not in the database. Facts come from entities.json; nothing is fetched.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote

from .entities import EntityCatalog, Molecule, canonical_smiles
from .reply import Reply

FAULT_CODES = {
    400: (
        "PUGREST.BadRequest",
        "Request is improperly formed (syntax error in the URL, POST body, etc.)",
    ),
    404: ("PUGREST.NotFound", "The input record was not found (e.g. invalid CID)"),
    405: (
        "PUGREST.NotAllowed",
        "Request not allowed (such as invalid MIME type in the HTTP Accept header)",
    ),
    500: (
        "PUGREST.ServerError",
        "Some problem on the server side (such as a database server down, etc.)",
    ),
    501: (
        "PUGREST.Unimplemented",
        "The requested operation has not (yet) been implemented by the server",
    ),
    503: ("PUGREST.ServerBusy", "Too many requests or server too busy, retry later"),
    504: ("PUGREST.Timeout", "The request timed out, from server overload or too broad a request"),
}

MAINTENANCE_PAGE = """<!DOCTYPE html>
<html><head><title>503 Service Unavailable</title></head>
<body><h1>Service Temporarily Unavailable</h1>
<p>PubChem is undergoing scheduled maintenance. Please try again later.</p>
<p>(resolver test server)</p></body></html>
"""

INCHIKEY_PATTERN = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")

# Requested name -> response key. The old SMILES names still work but answer with the new keys.
PROPERTY_KEYS = {
    "MolecularFormula": "MolecularFormula",
    "MolecularWeight": "MolecularWeight",
    "SMILES": "SMILES",
    "ConnectivitySMILES": "ConnectivitySMILES",
    "IsomericSMILES": "SMILES",
    "CanonicalSMILES": "ConnectivitySMILES",
    "InChI": "InChI",
    "InChIKey": "InChIKey",
    "IUPACName": "IUPACName",
    "Title": "Title",
    "XLogP": "XLogP",
    "ExactMass": "ExactMass",
    "MonoisotopicMass": "MonoisotopicMass",
    "TPSA": "TPSA",
    "Charge": "Charge",
    "HBondDonorCount": "HBondDonorCount",
    "HBondAcceptorCount": "HBondAcceptorCount",
    "RotatableBondCount": "RotatableBondCount",
    "HeavyAtomCount": "HeavyAtomCount",
}
_PROPERTY_BY_LOWER = {name.lower(): name for name in PROPERTY_KEYS}

STRUCTURE_NAMESPACES = ("cid", "name", "smiles", "inchikey", "inchi")
FAST_SEARCHES = (
    "fastidentity",
    "fastsimilarity_2d",
    "fastsimilarity_3d",
    "fastsubstructure",
    "fastsuperstructure",
)
LEGACY_SEARCHES = ("substructure", "superstructure", "similarity", "identity", "formula", "listkey")
OPERATIONS = ("cids", "property", "synonyms", "description", "record")
OUTPUTS = ("JSON", "TXT", "XML", "CSV", "SDF", "PNG", "ASNT", "ASNB", "JSONP")


class PubChemError(Exception):
    """An answer with a PUGREST Fault body."""

    def __init__(self, status: int, message: str | None = None, details: list[str] | None = None):
        fallback = FAULT_CODES[400] if 400 <= status < 500 else FAULT_CODES[500]
        code, default_message = FAULT_CODES.get(status, fallback)
        super().__init__(message or default_message)
        self.status = status
        self.code = code
        self.message = message or default_message
        self.details = details or []


def fault_reply(status: int, message: str | None = None, details: list[str] | None = None) -> Reply:
    """The ``{"Fault": {...}}`` body PubChem sends with an error status."""
    error = PubChemError(status, message, details)
    fault = {"Code": error.code, "Message": error.message}
    if error.details:
        fault["Details"] = error.details
    return Reply.json(status, {"Fault": fault})


def maintenance_reply(status: int = 503) -> Reply:
    return Reply.text(status, MAINTENANCE_PAGE, content_type="text/html; charset=UTF-8")


class PubChemProtocol:
    """Answers PUG REST requests below the base path from an EntityCatalog."""

    def __init__(self, catalog: EntityCatalog, origin: str = ""):
        self.catalog = catalog
        self.origin = origin  # "http://127.0.0.1:PORT", used in DescriptionURL
        self.synthetic_compounds = False  # True: any CID the catalog lacks gets a made-up compound

    def handle(self, method: str, path: str, body: str, content_type: str = "") -> Reply:
        """path: the part after /rest/pug, still percent-encoded; body: the raw POST body."""
        try:
            return self._handle(method, path, body, content_type)
        except PubChemError as error:
            return fault_reply(error.status, error.message, error.details)

    # -- request parsing ---------------------------------------------------------------

    def _handle(self, method: str, path: str, body: str, content_type: str) -> Reply:
        if method not in ("GET", "POST"):
            raise PubChemError(405, details=[f"Method {method} is not allowed; use GET or POST"])
        form: dict[str, list[str]] = {}
        if method == "POST" and body:
            if content_type and "application/x-www-form-urlencoded" not in content_type:
                raise PubChemError(
                    400, details=["POST body must be application/x-www-form-urlencoded"]
                )
            form = parse_qs(body, keep_blank_values=True)
        # Split first, then decode: %2F inside one element stays part of that element.
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        if not parts:
            raise PubChemError(400, details=["No domain given"])
        domain = parts.pop(0).lower()
        if domain in (
            "substance",
            "assay",
            "gene",
            "protein",
            "pathway",
            "taxonomy",
            "cell",
            "sources",
            "conformers",
            "annotations",
        ):
            raise PubChemError(
                501, details=[f"Domain {domain!r} is not served by the resolver test server"]
            )
        if domain != "compound":
            raise PubChemError(400, "Invalid domain", [f"Unknown domain {domain!r}"])
        if not parts:
            raise PubChemError(400, details=["No namespace given"])
        namespace = parts.pop(0).lower()
        if namespace in FAST_SEARCHES:
            if not parts:
                raise PubChemError(400, details=["No input namespace after " + namespace])
            search_input = parts.pop(0).lower()
            if namespace != "fastidentity":
                raise PubChemError(
                    501, details=[f"{namespace} is not served by the resolver test server"]
                )
            namespace = search_input
            if namespace not in ("smiles", "inchikey", "inchi", "cid"):
                raise PubChemError(
                    400, "Invalid namespace", [f"fastidentity does not take {search_input!r}"]
                )
        elif namespace in LEGACY_SEARCHES:
            raise PubChemError(
                501,
                details=[
                    f"The asynchronous {namespace} search is not served by the resolver test server; use fastidentity"
                ],
            )
        elif namespace not in STRUCTURE_NAMESPACES:
            raise PubChemError(
                400, "Invalid namespace", [f"Unknown compound namespace {namespace!r}"]
            )

        # Identifiers: from the POST body when it names the namespace, else the next path element.
        if namespace in form:
            values = form[namespace]
            identifiers = ",".join(values) if namespace == "cid" else values[0]
        elif namespace == "inchi":
            raise PubChemError(
                400,
                "InChI input must be sent by POST",
                ["Send inchi=... in a form-encoded POST body"],
            )
        elif parts:
            identifiers = parts.pop(0)
        else:
            raise PubChemError(
                400, "No input", [f"No {namespace} identifier in the URL or the POST body"]
            )

        operation, argument, output = self._parse_operation(parts)
        cids = self._resolve(namespace, identifiers)
        return self._answer(namespace, operation, argument, output, cids)

    def _parse_operation(self, parts: list[str]) -> tuple[str, str, str]:
        if not parts:
            raise PubChemError(
                400, "Invalid output format", ["No output format (e.g. JSON) at the end of the URL"]
            )
        if parts[0].upper() in OUTPUTS and len(parts) == 1:
            return "record", "", parts[0].upper()
        operation = parts.pop(0).lower()
        argument = ""
        if operation == "property":
            if not parts:
                raise PubChemError(
                    400,
                    "No properties given",
                    ["property needs a comma list, e.g. property/MolecularWeight"],
                )
            argument = parts.pop(0)
        elif operation not in OPERATIONS:
            raise PubChemError(501, details=[f"Operation {operation!r} is not implemented"])
        if len(parts) != 1:
            raise PubChemError(
                400,
                "Invalid output format",
                [
                    f"Expected one output format after {operation!r}, got {'/'.join(parts) or 'nothing'}"
                ],
            )
        output = parts[0].upper()
        if output not in OUTPUTS:
            raise PubChemError(
                400, "Invalid output format", [f"Unknown output format {parts[0]!r}"]
            )
        return operation, argument, output

    # -- lookups -----------------------------------------------------------------------

    def _resolve(self, namespace: str, identifiers: str) -> list[int]:
        """CIDs for the input, in input order; 0 stands for a valid structure PubChem lacks."""
        catalog = self.catalog
        if namespace == "cid":
            tokens = [t.strip() for t in identifiers.replace(" ", ",").split(",") if t.strip()]
            if not tokens or not all(t.isdigit() for t in tokens):
                raise PubChemError(
                    400, "Invalid CID", [f"CIDs must be positive integers, got {identifiers!r}"]
                )
            cids = []
            for cid in (int(t) for t in tokens):
                known = cid in catalog.by_cid or (self.synthetic_compounds and cid > 0)
                if known and cid not in cids:
                    cids.append(cid)
            if not cids:
                raise PubChemError(404, "No CID found", ["No records found for the given CID(s)"])
            return cids
        if namespace == "name":
            cids = catalog.cids_for_name(identifiers)
            if not cids:
                raise PubChemError(
                    404, "No CID found", ["No CID found that matches the given name"]
                )
            return cids
        if namespace == "smiles":
            canonical = canonical_smiles(identifiers) if identifiers.strip() else None
            if canonical is None:
                raise PubChemError(
                    400,
                    "Unable to standardize the given structure - perhaps some special characters need to be escaped or data packed in a MIME form?",
                    [f"SMILES {identifiers!r} could not be parsed"],
                )
            found = catalog.by_canonical_smiles.get(canonical, [])
            return [m.cid for m in found] or [0]
        if namespace == "inchikey":
            key = identifiers.strip()
            if not INCHIKEY_PATTERN.match(key):
                raise PubChemError(
                    400,
                    "Invalid InChIKey",
                    [f"{identifiers!r} is not an InChIKey (XXXXXXXXXXXXXX-XXXXXXXXXX-X)"],
                )
            molecule = catalog.by_inchikey.get(key)
            if molecule is None:
                raise PubChemError(
                    404, "No CID found", ["No CID found that matches the given InChIKey"]
                )
            return [molecule.cid]
        # inchi
        text = identifiers.strip()
        if not text.startswith("InChI="):
            raise PubChemError(
                400,
                "Unable to standardize the given structure",
                [f"{identifiers[:60]!r} is not an InChI string"],
            )
        molecule = catalog.by_inchi.get(text)
        if molecule is None:
            raise PubChemError(404, "No CID found", ["No CID found that matches the given InChI"])
        return [molecule.cid]

    # -- operations --------------------------------------------------------------------

    def _answer(
        self, namespace: str, operation: str, argument: str, output: str, cids: list[int]
    ) -> Reply:
        if operation == "cids":
            if output == "TXT":
                return Reply.text(200, "".join(f"{cid}\n" for cid in cids))
            self._require_json(output)
            return Reply.json(200, {"IdentifierList": {"CID": cids}})
        known = [cid for cid in cids if cid != 0]
        if not known:
            raise PubChemError(
                404, "No CID found", ["The structure is valid but not in the database"]
            )
        molecules = [
            self.catalog.by_cid.get(cid) or self.catalog.synthetic_molecule(cid) for cid in known
        ]
        if operation == "property":
            self._require_json(output)
            return Reply.json(
                200,
                {
                    "PropertyTable": {
                        "Properties": [self._property_row(m, argument) for m in molecules]
                    }
                },
            )
        if operation == "synonyms":
            if output == "TXT":
                return Reply.text(
                    200,
                    "".join(
                        f"{name}\n" for m in molecules for name in [*m.synonyms, *m.test_aliases]
                    ),
                )
            self._require_json(output)
            info = [{"CID": m.cid, "Synonym": [*m.synonyms, *m.test_aliases]} for m in molecules]
            return Reply.json(200, {"InformationList": {"Information": info}})
        if operation == "description":
            self._require_json(output)
            info = []
            for m in molecules:
                info.append({"CID": m.cid, "Title": m.title})
                info.append(
                    {
                        "CID": m.cid,
                        "Description": m.description,
                        "DescriptionSourceName": "BioMedGPT-tools resolver test data",
                        "DescriptionURL": f"{self.origin}/test-data/compound/{m.cid}",
                    }
                )
            return Reply.json(200, {"InformationList": {"Information": info}})
        # record
        self._require_json(output)
        return Reply.json(200, {"PC_Compounds": [self._record(m) for m in molecules]})

    @staticmethod
    def _require_json(output: str) -> None:
        if output != "JSON":
            raise PubChemError(
                501,
                details=[f"Output {output} is not served by the resolver test server; use JSON"],
            )

    def _property_row(self, molecule: Molecule, argument: str) -> dict:
        requested = [p.strip() for p in argument.split(",") if p.strip()]
        row: dict = {"CID": molecule.cid}
        for name in requested:
            canonical_name = _PROPERTY_BY_LOWER.get(name.lower())
            if canonical_name is None:
                raise PubChemError(400, "Invalid property", [f"Unknown property name {name!r}"])
            key = PROPERTY_KEYS[canonical_name]
            if key in row:
                continue
            value = self._property_value(molecule, key)
            if value is not None:
                row[key] = value
        return row

    @staticmethod
    def _property_value(m: Molecule, key: str):
        direct = {
            "MolecularFormula": m.formula,
            "MolecularWeight": m.molecular_weight,  # a string, as PubChem sends it
            "SMILES": m.smiles,
            "ConnectivitySMILES": m.connectivity_smiles,
            "InChI": m.inchi,
            "InChIKey": m.inchikey,
            "IUPACName": m.iupac_name or None,
            "Title": m.title,
            "XLogP": m.xlogp,  # absent for salts and some others
        }
        if key in direct:
            return direct[key]
        return m.computed[key]

    @staticmethod
    def _record(m: Molecule) -> dict:
        def prop(label: str, name: str | None, value: dict) -> dict:
            urn = {"label": label}
            if name:
                urn["name"] = name
            return {"urn": urn, "value": value}

        props = [
            prop("IUPAC Name", "Preferred", {"sval": m.iupac_name}),
            prop("InChI", "Standard", {"sval": m.inchi}),
            prop("InChIKey", "Standard", {"sval": m.inchikey}),
            prop("Molecular Formula", None, {"sval": m.formula}),
            prop("Molecular Weight", None, {"sval": m.molecular_weight}),
            prop("SMILES", "Absolute", {"sval": m.smiles}),
            prop("SMILES", "Connectivity", {"sval": m.connectivity_smiles}),
        ]
        if m.xlogp is not None:
            props.append(prop("Log P", "XLogP3", {"fval": m.xlogp}))
        return {
            "id": {"id": {"cid": m.cid}},
            "charge": m.computed["Charge"],
            "props": props,
            "count": {"heavy_atom": m.computed["HeavyAtomCount"]},
        }
