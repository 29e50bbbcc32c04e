"""Load from many machines: a workload split over a pool of loaders on Dask distributed.

`spec` parses `--loaders`, `pool` opens the pool (a LocalCluster, an existing scheduler, the
stack's loader pool), `clock` measures each loader's clock offset to the driver, `split` deals
the workload's processes out to the loaders, `agent` and `task` run one loader's share there,
`execute` drives a run over the pool and `merge` turns the loaders' reports into one summary.
"""
