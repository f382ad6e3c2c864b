"""The Python client: does on this machine what the browser does in the page.

It holds the keys and does all encryption with ``crypto``; the server only
ever receives what this package produces. The tests, the benchmark, the demo
seed and the command-line chat use it.
"""
