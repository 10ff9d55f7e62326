"""The `igpreflight` command: a click group assembled from igpreflight.commands.*.

Commands parse options, call the library, render, and choose the exit code
(0 ok, 1 findings/failures, 2 usage or configuration error).
"""

from __future__ import annotations

import click

from igpreflight import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="igpreflight")
def cli() -> None:
    """Check, fix, upload and publish media for the Instagram Graph API."""


# Command registration: one line per command module (keep this block sorted).
# >>> commands
from igpreflight.commands.check import check  # noqa: E402
from igpreflight.commands.fix import fix  # noqa: E402
from igpreflight.commands.publish import publish  # noqa: E402
from igpreflight.commands.rules import explain, rules_command  # noqa: E402
from igpreflight.commands.upload import check_url_command, upload  # noqa: E402

cli.add_command(check)
cli.add_command(fix)
cli.add_command(publish)
cli.add_command(rules_command)
cli.add_command(explain)
cli.add_command(upload)
cli.add_command(check_url_command)


def main() -> None:
    cli(prog_name="igpreflight")


if __name__ == "__main__":
    main()
