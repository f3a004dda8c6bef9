"""Reading a request's parameters the same way in every route module (one error line when bad), and NotFound."""

from __future__ import annotations

from starlette.requests import Request

from mnistlab.errors import MnistlabError


def int_param(request: Request, name: str, default: int | None = None) -> int | None:
    """The whole number in query parameter `name`, `default` when absent; MnistlabError when not a number."""
    text = request.query_params.get(name)
    if text in (None, ""):
        return default
    try:
        return int(text)
    except ValueError:
        raise MnistlabError(f"{name}={text!r} is not a whole number") from None


class NotFound(MnistlabError):
    """A run, file, epoch or job that does not exist (or may not be shown): HTTP 404."""
