"""The HTML report: matplotlib figures and a self-contained page."""
