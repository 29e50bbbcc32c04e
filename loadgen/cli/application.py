"""The Typer app of `loadgen`: every command module registered on it, in a group
(`loadgen.cli.errors.LoadgenGroup`) that maps what escapes a command to an exit status."""

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
from loadgen.cli.base import new_app

app = new_app()
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
