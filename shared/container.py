"""Container entrypoint: `serve <service>` or `migrate <service>` (URL from the environment)."""

from __future__ import annotations

import sys

from shared.migrations import upgrade
from shared.serve import serve
from shared.settings import SERVICES, Settings


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("serve", "migrate") or argv[1] not in SERVICES:
        sys.exit(f"usage: serve|migrate <{'|'.join(SERVICES)}>")
    action, service = argv
    if action == "migrate":
        upgrade(service, Settings().database_url_for(service))
    else:
        serve(service)


if __name__ == "__main__":
    main(sys.argv[1:])
