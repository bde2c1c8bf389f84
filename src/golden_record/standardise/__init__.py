"""Standardise: canonical records cleaned into the columns matching compares.

``fields`` holds one function per field (names, dates of birth, postcodes, phones,
emails…); ``nicknames`` the forename variants.
"""
