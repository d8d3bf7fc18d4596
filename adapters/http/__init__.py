"""The HTTP API (接口): the FastAPI app, its dependencies, write routes and read routes by area."""
