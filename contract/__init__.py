"""What the Pulumi program (`stacks`, `components`) and the load generator (`loadgen`) share.

Neutral ground: this package imports neither Pulumi nor `loadgen` (nor `stacks`, `components`,
`functions`), so every side may import it; tests/test_layers.py checks that.
"""
