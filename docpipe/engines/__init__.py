"""Recognition engines: a batch of pages in, raw page results (lines, tables, images) out."""
