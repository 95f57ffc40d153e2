"""Pictures: the graph as drawn nodes and edges, as DOT, and rendered by a Graphviz backend."""
