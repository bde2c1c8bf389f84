"""Residents' rights under UK GDPR, answered from the golden store (Articles 15–18)."""
