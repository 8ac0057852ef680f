"""Tests of the sales: enquiries, assignment, activities, quotes, lost reasons,
customer merges and merge requests."""
