"""Running a batch wider than one process: engines (local threads, Dask) and shards."""
