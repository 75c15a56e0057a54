"""Sandbox for AlertSync: platform simulators and a Kubernetes API emulator.

Used by tests, the demo and the benchmark. The operator never imports it.
"""
