"""One error path for every `loadgen` command.

- A user mistake (a bad option, a bad file) exits 2 with one line naming the problem. Commands
  report their own mistakes with `usage_error` (an option or argument) or by printing their
  lines and raising `typer.Exit(2)`; the option parser's own errors get the same one-line form
  here.
- Anything else that escapes a command is an internal error: exit 1, one short line, and the
  traceback written to a log file whose path the line gives (under `$XDG_STATE_HOME`, by
  default `~/.local/state/faasbench/errors/`; the temporary directory if that is not writable).
- Ctrl-C exits 130.
- An option's old spelling (`DEPRECATED_OPTIONS`) still works for one release, with a line on
  stderr naming the new one.

The exit statuses are listed in docs/loadgen.md.
"""

from __future__ import annotations

import errno
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import typer
from typer import _click
from typer.core import TyperGroup

from loadgen.errorlog import write_error_log
from loadgen.userfiles import shorten

USAGE_EXIT = 2
INTERNAL_EXIT = 1
INTERRUPTED_EXIT = 130
#: How much of an internal error's message the one line shows (the log has all of it).
MESSAGE_CHARS = 200
#: Old spelling -> new spelling, accepted (with a warning) by every command that has the new
#: one. The naming rule the new spellings follow is in docs/loadgen.md.
DEPRECATED_OPTIONS = {"--outputs": "--stack-outputs", "--out": "--records"}


def _one_line(text: str) -> str:
    return shorten(text, 400)


def fail_problems(source: object, problems: list[str]) -> None:
    """A file's problems, one line each (`FILE: field: rule`), then exit 2."""
    for problem in problems:
        typer.echo(f"{source}: {_one_line(problem)}", err=True)
    raise typer.Exit(USAGE_EXIT)


def _option_names(command: _click.Command) -> set[str]:
    return {name for param in command.params for name in param.opts}


def replace_deprecated(command_path: str, command: _click.Command, args: list[str]) -> list[str]:
    """ARGS with each old option spelling the command knows under its new name (up to `--`)."""
    known = _option_names(command)
    replaced: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return [*replaced, *args[index:]]
        name, equals, value = arg.partition("=")
        new = DEPRECATED_OPTIONS.get(name)
        if new is not None and new in known and name not in known:
            typer.echo(
                f"{command_path}: {name} is deprecated and will be removed in the next release; "
                f"use {new}",
                err=True,
            )
            arg = f"{new}{equals}{value}"
        replaced.append(arg)
    return replaced


class LoadgenGroup(TyperGroup):
    """The app's command group: runs a command and maps what escapes it to an exit status."""

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and name is not None:
            rest = replace_deprecated(f"{ctx.command_path} {name}", command, rest)
        return name, command, rest

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        code = self._run(args, prog_name, complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        **extra: Any,
    ) -> int:
        name = prog_name or "loadgen"
        try:
            result = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except _click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            return USAGE_EXIT
        except _click.exceptions.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else name
            typer.echo(f"{where}: {_one_line(exc.format_message())}", err=True)
            return USAGE_EXIT
        except _click.exceptions.ClickException as exc:
            typer.echo(f"{name}: {_one_line(exc.format_message())}", err=True)
            return exc.exit_code
        except (typer.Abort, KeyboardInterrupt):
            typer.echo(f"{name}: interrupted", err=True)
            return INTERRUPTED_EXIT
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the reader of our output went away (| head)
                sys.stdout = _click.utils.PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
                sys.stderr = _click.utils.PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
                return INTERNAL_EXIT
            return _internal(name, exc)
        except Exception as exc:
            return _internal(name, exc)
        return result if isinstance(result, int) else 0


def _internal(name: str, exc: BaseException) -> int:
    command = " ".join([name, *sys.argv[1:2]])
    log = write_error_log(f"command: {command}", "".join(traceback.format_exception(exc)))
    summary = _one_line(f"{type(exc).__name__}: {exc}")[:MESSAGE_CHARS]
    if log is None:
        traceback.print_exception(exc, file=sys.stderr)
        typer.echo(f"{name}: internal error ({summary}); could not write a log", err=True)
    else:
        typer.echo(
            f"{name}: internal error ({summary}); the traceback is in {log}; please report it",
            err=True,
        )
    return INTERNAL_EXIT
