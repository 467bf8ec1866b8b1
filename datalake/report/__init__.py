"""The self-contained HTML report: its sections and inline SVG charts."""
