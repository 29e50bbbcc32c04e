"""The installed package's version: shown by `loadgen --version`, written into every record
file's header and every campaign manifest (`tool_version`)."""

from importlib.metadata import PackageNotFoundError, version


def loadgen_version() -> str:
    try:
        return version("faasbench")
    except PackageNotFoundError:
        return "0+unknown"
