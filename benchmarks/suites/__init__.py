"""The two e2e suites the benchmarks time: the same pages and checks, two plugins."""
