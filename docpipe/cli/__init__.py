"""Command-line interface: `docpipe convert`, `docpipe schema`, `docpipe eval`, `docpipe bench`."""
