"""`docpipe bench`: throughput, per-stage time, latency and memory, side by side with a baseline."""
