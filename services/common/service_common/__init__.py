"""Shared runtime for the CRM suite's nameko services.

Small on purpose: a database provider, the caller context, the typed error
contract, input validation and the migrate-then-run entry point. Nothing
here knows about a particular service's domain.
"""
