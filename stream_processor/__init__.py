"""The local Firehose twin and the tools around it: run, query, replay, dashboard, backfill, compact.

Imports ``transform_lambda`` (the very code Firehose invokes), never the reverse.
"""

__version__ = "0.1.0"
