"""Run __main__.py the way Pulumi's Python language host does, with mocks instead of an engine.

The host reads config from PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS, runs the program in a
stack, prints a `RunError` as its message alone and anything else as a traceback, and exits 1
on failure. Tests run this in a subprocess to see exactly what a user would see.
"""

from __future__ import annotations

import asyncio
import logging
import runpy
import sys
import traceback
from pathlib import Path

import pulumi
import pulumi.runtime
from pulumi.runtime.stack import run_pulumi_func

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from support.pulumi_mocks import RecordingMocks


def main() -> int:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    root = Path(sys.argv[1])
    stack = sys.argv[2] if len(sys.argv) > 2 else "test"
    pulumi.runtime.set_all_config(
        pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
    )
    logger = logging.getLogger("pulumi-engine")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    pulumi.runtime.set_mocks(
        RecordingMocks(), project="faasbench", stack=stack, preview=True, logger=logger
    )
    sys.path.insert(0, str(root))
    try:
        loop.run_until_complete(
            # set_mocks already made the root Stack that run_in_stack would make.
            run_pulumi_func(lambda: runpy.run_path(str(root / "__main__.py"), run_name="__main__"))
        )
    except pulumi.RunError as err:
        pulumi.log.error(str(err))
        return 1
    except Exception:
        pulumi.log.error(traceback.format_exc())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
