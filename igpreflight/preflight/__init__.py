"""Preflight: probe files into facts, run rules over facts, collect findings."""
