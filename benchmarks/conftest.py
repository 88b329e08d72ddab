"""Benchmarks run on the CPU unless a benchmark asks for CUDA itself."""
