"""The command line: the typer app, the rich console layer and the demo sequence."""
