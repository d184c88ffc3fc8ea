"""The partner simulators of case 2 in a process of their own: `python -m bench.e2e_partners <spec.json>`.

The simulators are real servers (IB and Suwinet over mutual TLS with 2W-be-S, the ZGW and arbodienst
APIs); run inside the process that runs the flows, their request handling shares its interpreter lock
with the flows, which a real partner never does. This launcher starts them (flows.partners, with an
arbodienst that has slots for `n` consults) from a spec file written by bench/e2e_child.py, prints one
line `E2E-PARTNERS <json>` with the `VANGNET_*` settings that point at them (URLs, the throwaway PKI's
file paths, the shared secret of this run), the IB endpoint and the arbodienst's admin URL, and serves
until its stdin is closed. Both designs of a repetition are measured against partners started this way.

Spec keys: `data` (the scenario: signalen, lks, vandaag, gemeentecode), `workdir`, `database_url`, `n`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

MARKER = "E2E-PARTNERS "


def main(argv: list[str]) -> int:
    from bench.e2e_child import partners_with_slots

    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    before = dict(os.environ)
    with partners_with_slots(spec["data"], Path(spec["workdir"]), spec["database_url"], int(spec["n"])) as (
            partners, arbo):
        env = {k: v for k, v in os.environ.items() if k.startswith("VANGNET_") and before.get(k) != v}
        admin = arbo.api_root.split(arbo.contract.base_path)[0] + "/__arbo"
        print(MARKER + json.dumps({"env": env, "ib_endpoint": partners.ib_endpoint, "arbo_admin": admin}),
              flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin (or exits)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
