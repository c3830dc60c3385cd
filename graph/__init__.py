"""Industrial-park party organizations as a graph: model, rules, stores, algorithms."""

import os

# polars allocates through its own jemalloc, which by default keeps every page a load
# touched: a million-enterprise ledger then leaves ~400 MB resident after loading. A
# background thread returning freed pages after half a second keeps only what the store
# holds. Set before polars is first imported; a value already in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:500,muzzy_decay_ms:0")
