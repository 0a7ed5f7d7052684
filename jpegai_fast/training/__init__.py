"""Training on CPU or GPU (torch): the loop, the data sampler, the resumable state."""
