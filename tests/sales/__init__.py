"""Tests of the sales: enquiries, assignment, activities, quotes, lost reasons and
customer merges."""
