"""One module per CLI command; `igpreflight.cli` assembles them into the click group."""
