"""Work built on the codec: collections (batch), the demo, profiling."""
