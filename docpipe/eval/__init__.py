"""Quality measurement: text similarity, table TEDS, olmOCR-bench style unit tests.

- text: normalized edit similarity, CER, WER on Markdown-normalized text
- tables, tree_edit, teds: tables read from pipe/HTML Markdown, Zhang-Shasha TED, TEDS
- olmocr_bench, fuzzy_find: the JSONL unit-test format and its checkers
- katex_render, math_match: KaTeX in headless Chromium, formula layout comparison
- report, compare: folder scoring and engine-versus-engine runs behind `docpipe eval`
"""
