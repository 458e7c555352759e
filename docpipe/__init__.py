"""docpipe: PDFs and page images to Markdown, schema-validated JSON and RAG-ready chunks.

import docpipe
doc = docpipe.convert("paper.pdf")          # -> docpipe.model.Document
print(docpipe.to_markdown(doc))
chunks = docpipe.make_chunks(doc, max_tokens=512)
docpipe.view("out/paper.json")             # -> out/paper.view.html, a review page
"""

__version__ = "0.1.0"

from docpipe.api import convert, convert_to, view  # noqa: E402
from docpipe.model import Document  # noqa: E402
from docpipe.writers.chunks import make_chunks  # noqa: E402
from docpipe.writers.markdown import to_markdown  # noqa: E402

__all__ = ["Document", "__version__", "convert", "convert_to", "make_chunks", "to_markdown", "view"]
