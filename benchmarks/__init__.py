"""Benchmarks of introsim: scale, a Mesa-style baseline, throughput, start-up.

Run with ``make bench`` (``python -m benchmarks.run``); results go to
``benchmarks/RESULTS.md``. Nothing here is imported by ``src/introsim``.
"""
