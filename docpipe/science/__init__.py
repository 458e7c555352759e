"""Science content: chemical structures, formulas, charts."""
