"""The steps of a post: plain functions `(runtime, ...) -> typed result`, each one
durable step of the workflow (durable/workflow.py). The same functions run under
DBOS in production and under the crash-point simulator in tests (tests/sim/)."""
