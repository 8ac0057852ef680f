"""Tests of the catalogue: packages, itineraries, departures and search."""
