"""The container and stream rules (docs/format.md): torch-free, numpy only."""
