"""The Graph API as the publisher sees it: the client (client.py), its errors as
values (errors.py) and the table of what every code and subcode means (table.py).

Only constants live here, so importing the package costs nothing; httpx is imported
when a client is made.
"""

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v25.0"
