"""Assembly: raw engine output -> typed blocks in reading order (engine-independent)."""
