"""Creditsafe enrolment and rating-change watch."""
