"""The SDK engine: walking, hashing, packing, transferring, downloading and caching files.

It talks to the gateway only through a Transport (transport.py) and never imports the client
modules (aclient, client, artifact, version...); tests/sdk/test_sdk_imports.py checks both.
"""
