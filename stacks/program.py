"""The Pulumi program: read and validate config, compose the stack, export the contract."""

from __future__ import annotations

import pulumi

from components.openwhisk_chart import ChartError
from stacks.compose import compose
from stacks.export import export_outputs
from stacks.read_config import ConfigError, load_stack_config, read_pulumi_config


def main() -> None:
    raw, secret_keys = read_pulumi_config()
    try:
        config = load_stack_config(raw, secret_keys)
    except ConfigError as err:
        # RunError: the CLI shows the message alone, no traceback, and exits non-zero.
        raise pulumi.RunError(str(err)) from None
    try:
        outputs = compose(config, pulumi.get_stack())
    except ChartError as err:
        raise pulumi.RunError(str(err)) from None
    export_outputs(outputs)
