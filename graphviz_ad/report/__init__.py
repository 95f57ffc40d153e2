"""Views of an analysis as rich terminal tables and as JSON-ready data."""
