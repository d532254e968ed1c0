"""Tests of the advisors."""
