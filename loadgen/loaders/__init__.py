"""Where a load comes from: this machine or many (Dask distributed), `--loaders`."""
