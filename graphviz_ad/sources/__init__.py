"""Importers: other frameworks' computations as annotated graphs, each imported only when asked."""
