"""Excel reports of company selections."""
