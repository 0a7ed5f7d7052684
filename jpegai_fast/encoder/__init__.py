"""The encoder's side: analysis and tile coding, rate control, effort search."""
