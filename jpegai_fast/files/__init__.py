"""Image files and safe outputs: reading/writing PNG/JPEG/TIFF with metadata, atomic writes."""
