"""Writers: Document -> Markdown, JSON, chunks; all files written atomically."""
