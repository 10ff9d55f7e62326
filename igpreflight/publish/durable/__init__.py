"""Publishing as durable workflows: one per post, on a queue partitioned by account.

workflow.py is the post's life as a pure sequencer over the port in ops.py;
dbos_port.py drives it on DBOS Transact; engine.py runs DBOS as a worker; queue.py
enqueues through a client that cannot run anything; queries.py reads states;
runs.py is what `publish`, `worker` and `status` do; dbfaults.py says what a
database fault means in one line.
"""
