"""The container and stream rules (docs/format.md): torch-free; numpy and the constants the C++ core exports (core/constants.py)."""
