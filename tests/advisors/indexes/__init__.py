"""Tests of the index advisor."""
