"""Paste filter for the end-to-end stack's nova-api (after noauth2).

nova's noauth2 middleware builds the request context from
"X-Auth-Token: user:project" but leaves context.auth_token empty, so every
call nova makes with the user's token (the image GET in POST /servers, the
port listing on delete in nova-compute) fails in keystoneauth with "No valid
authentication is available". This filter puts the header's value into the
context; it then travels over RPC to the conductor and the computes.
"""


def filter_factory(global_conf, **local_conf):
    def wrap(app):
        def call(environ, start_response):
            ctx = environ.get("nova.context")
            if ctx is not None and not ctx.auth_token:
                ctx.auth_token = environ.get("HTTP_X_AUTH_TOKEN")
            return app(environ, start_response)
        return call
    return wrap
