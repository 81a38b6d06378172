"""Paste filter for the end-to-end stack's nova-api (scripts/nova-stack.sh): what
authenticates requests there instead of keystone, on every nova release.

nova's own noauth2 is no use: nova 34 removed it (and nova.api.openstack.auth),
nova 31's policies (enforce_new_defaults) want roles it never set, and even on
Zed it left context.auth_token empty, so every call nova makes with the user's
token (the image GET in POST /servers, the port listing on delete in
nova-compute) failed in keystoneauth.

The contract is noauth2's: "X-Auth-Token: user:project" (project defaults to
user) makes a nova RequestContext for that user and project, an admin one
(roles admin, member, reader) when the user is "admin", with the header's value
as its token, which travels over RPC to the conductor and the computes. A
request without the header gets 401. Only for the loopback test stack: it
trusts whatever the header says.
"""


def noauth_factory(global_conf, **local_conf):
    from nova import context  # nova's, imported when the pipeline is built

    def wrap(app):
        def call(environ, start_response):
            token = environ.get("HTTP_X_AUTH_TOKEN")
            if not token:
                body = b"X-Auth-Token: USER:PROJECT required (the test stack's noauth filter)\n"
                start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                    ("Content-Length", str(len(body)))])
                return [body]
            user, _, project = token.partition(":")
            admin = user == "admin"
            environ["nova.context"] = context.RequestContext(
                user, project or user, is_admin=admin, auth_token=token,
                roles=["admin", "member", "reader"] if admin else ["member", "reader"],
                remote_address=environ.get("REMOTE_ADDR", "127.0.0.1"),
                request_id=environ.get("openstack.request_id"))
            return app(environ, start_response)
        return call
    return wrap
