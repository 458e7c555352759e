"""Scheduling: run conversions over many documents, record progress in the manifest, resume."""
