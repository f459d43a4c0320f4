"""Runs scim2-tester (PyPI) against a Bonafide server: tests/scim.rs starts the server and calls this.

Usage: scim_tester.py BASE_URL TOKEN RESOURCE_TYPE...
Prints one JSON line per check (status, title, reason, resource type); exits 1 when any check is an
ERROR or CRITICAL.
"""

import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base_url, token, *resource_types = sys.argv[1:]
    http = httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    client = SyncSCIMClient(http)
    results = check_server(client, resource_types=resource_types or None)
    failed = 0
    for r in results:
        bad = r.status in (Status.ERROR, Status.CRITICAL)
        failed += bad
        print(json.dumps({"status": r.status.name, "title": r.title, "resource_type": r.resource_type,
                          "reason": r.reason if bad or r.status == Status.SKIPPED else None}))
    print(json.dumps({"checks": len(results), "failed": failed}))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
