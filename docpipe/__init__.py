"""docpipe: PDFs and page images to Markdown, schema-validated JSON and RAG-ready chunks."""

__version__ = "0.1.0"
