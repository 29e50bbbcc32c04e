module faasbench/functions

go 1.17
