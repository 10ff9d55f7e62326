"""Publishing as durable workflows: one per post, on a queue partitioned by account.

workflow.py is the post's life as a pure sequencer over the port in ops.py;
dbos_port.py drives it on DBOS Transact; engine.py runs DBOS as a worker; queue.py
enqueues through a client that cannot run anything; queries.py reads states;
runs.py is what `publish`, `worker` and `status` do; dbfaults.py says what a
database fault means in one line.
"""

APP_NAME = "igpreflight"
# One version for every worker: DBOS recovers only its own version's workflows. A
# database that holds an earlier version's unfinished posts hands them over to a new
# attempt (queue.next_attempt), settling first any that was publishing.
APP_VERSION = "igpreflight-publish-2"
QUEUE = "igpreflight_publish"
