"""Asynchronous invocations measured to their completion: a callback receiver the load generator
runs, and the join of the submissions' records with the completions it received."""
