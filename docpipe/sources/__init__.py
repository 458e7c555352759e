"""Sources: find inputs and open them as page sequences."""
