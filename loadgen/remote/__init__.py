"""`loadgen run --remote`: a campaign run on the stack's loader, inside the private network.

The load must come from next to HAProxy, not across the internet. This package installs the
current faasbench on the loader over SSH (a wheel of this tree, in a venv keyed by its content
hash), runs the campaign there with the output streamed back, forwards Ctrl-C, and copies the
results tree back so the analysis runs locally.
"""
