from faasbench.cli import main

main()
