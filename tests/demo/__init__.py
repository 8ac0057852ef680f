"""Tests of the demo: the demo and scale seeds."""
