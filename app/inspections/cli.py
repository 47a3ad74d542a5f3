import sys

import click
from flask.cli import AppGroup

archive_cli = AppGroup("archive", help="Archive bundles (归档包).")


@archive_cli.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
def verify_command(bundle):
    """Check every file of an archive bundle against its manifest; exit 0 when it matches."""
    from app.inspections.archive import verify_bundle

    with open(bundle, "rb") as fh:
        problems = verify_bundle(fh)
    if problems:
        for problem in problems:
            click.echo(f"不符：{problem}")
        sys.exit(1)
    click.echo("VALID：归档包中的每个文件都与清单一致。")
