"""faasbench: one stack is one serverless platform to benchmark (see README.md)."""

from stacks.program import main

main()
