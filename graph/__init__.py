"""Industrial-park party organizations as a graph: model, stores, algorithms."""
