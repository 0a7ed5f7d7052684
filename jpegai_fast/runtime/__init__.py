"""The model at run time without torch: weights file, architecture, the CPU engine."""
