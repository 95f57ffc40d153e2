"""The engine: op table, graph, evaluation, reverse and forward mode (pure maths, no I/O)."""
