"""`mnistlab lab`: a local web app to watch runs train, draw a digit, and look inside the MLP and the CNN.

`create_app(runs_dir)` builds the ASGI application (Starlette); `mnistlab lab` serves it with
uvicorn on 127.0.0.1. Importing this package imports neither Starlette nor Keras.
"""


def create_app(*args, **kwargs):
    """The lab's Starlette app (see `mnistlab.lab.app.create_app`)."""
    from mnistlab.lab.app import create_app as build  # Starlette is the `lab` extra: imported on use

    return build(*args, **kwargs)


__all__ = ["create_app"]
