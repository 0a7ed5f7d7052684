"""The decoder's side: the latent of a validated stream, tile by tile."""
