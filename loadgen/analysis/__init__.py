"""Statistics over results trees: per-cell and per-group summaries, platform comparisons."""
