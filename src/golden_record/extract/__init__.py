"""Extract: each source system read into raw landing and the canonical person record.

``landing`` lands a run's raw extract and key list once and builds the source's canonical
snapshot; ``sources`` holds one reader per council system; ``canonical`` is the contract
between the extractors and every later stage.
"""
