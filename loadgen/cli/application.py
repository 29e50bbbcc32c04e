"""The Typer app of `loadgen`: every command module registered on it, in a group
(`loadgen.cli.errors.LoadgenGroup`) that maps what escapes a command to an exit status."""

import typer

from loadgen.cli import (
    aggregate,
    compare,
    doctor,
    estimate,
    export,
    functions,
    hit,
    inspect,
    local,
    report,
    run,
    validate,
)
from loadgen.cli.errors import LoadgenGroup

app = typer.Typer(
    name="loadgen",
    cls=LoadgenGroup,
    help="Load generator for benchmarking serverless platforms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
hit.register(app)
inspect.register(app)
export.register(app)
aggregate.register(app)
compare.register(app)
report.register(app)
validate.register(app)
estimate.register(app)
run.register(app)
doctor.register(app)
functions.register(app)
local.register(app)
