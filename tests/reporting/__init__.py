"""Tests of the reporting: revenue, invoice, catalogue, customer and pipeline
reports."""
