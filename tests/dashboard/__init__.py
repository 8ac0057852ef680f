"""Tests of the dashboard: the staff dashboard's static files and browser tests."""
