"""A local web playground for chainrule: train small networks on 2-D data in the browser.

The training runs in Python with chainrule's own ``fit`` and backward pass; the page only
draws what the server sends. Start it with ``chainrule playground`` or::

    from chainrule.playground import serve
    serve(port=8000)

``create_app()`` returns the Starlette application (for tests or another ASGI server).
"""

from .config import Config, options, parse_config
from .server import create_app, serve

__all__ = ["Config", "create_app", "options", "parse_config", "serve"]
