"""Reports: formatting, charts and self-contained HTML."""
