"""The offline plan: the real program run in-process under the SDK's mock engine, recorded as JSON."""
