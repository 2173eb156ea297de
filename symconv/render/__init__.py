"""Renderers: derivations and solutions as LaTeX, Markdown, plain text and JSON."""
