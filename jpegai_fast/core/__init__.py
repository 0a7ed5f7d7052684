"""Thin numpy wrappers of the compiled C++ core, one module per concern."""
