"""Command line: one module per command group; ``main`` builds the parser and reports errors."""
