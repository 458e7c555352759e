"""Parsers from raw model output to typed block drafts. Model output is untrusted text: every parser
here reads it with a grammar (regex tokenizer, lxml, json + pydantic) and never evaluates it."""
