"""Request context: service version, request-id and response headers, trusted peers,
baggage and its signatures."""

from __future__ import annotations

from otel_distro.config._parsers import (
    int_between,
    one_of,
    parse_bool,
    parse_header_name,
    parse_list,
    parse_networks,
    parse_str,
)
from otel_distro.config._signing_keys import parse_signing_keys
from otel_distro.config._variable import Variable

__all__ = ["REQUEST"]

_DEFAULT_PROPAGATE_TO = (
    "localhost,127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,"
    "*.internal,*.svc.cluster.local"
)

REQUEST: tuple[Variable[object], ...] = (
    Variable(
        "OTEL_DISTRO_SERVICE_VERSION",
        "service_version",
        parse_str,
        "",
        "Resource `service.version` (unless `OTEL_RESOURCE_ATTRIBUTES` sets it).",
        default_doc="(unset)",
    ),
    Variable(
        "OTEL_DISTRO_REQUEST_ID_HEADER",
        "request_id_header",
        parse_header_name,
        "X-Request-ID",
        "Response header carrying the trace id (`off` drops only this header; the app's "
        "own value wins and is recorded as `http.response.header.<name>`). "
        "A client-sent value is recorded (sanitised) as `http.request.header.<name>`, "
        "never trusted.",
    ),
    Variable(
        "OTEL_DISTRO_RESPONSE_HEADERS",
        "response_headers",
        one_of("http", "all", "off"),
        "http",
        "Response headers the distro adds (`traceresponse`, the request id, and "
        "`access-control-expose-headers` naming them on CORS requests), never over the "
        "app's own: `http` on HTTP responses, `all` also on websocket handshakes, `off` none.",
    ),
    Variable(
        "OTEL_DISTRO_ASGI_INTERNAL_SPANS",
        "asgi_internal_spans",
        parse_bool,
        False,
        "Keep the ASGI `http send`/`http receive` internal spans.",
    ),
    Variable(
        "OTEL_DISTRO_SERVER_MIDDLEWARE",
        "server_middleware",
        one_of("lean", "contrib"),
        "lean",
        "Server middleware of FastAPI, Starlette and `instrument(app)` apps: `lean` (the "
        "distro's own: the contrib middleware's spans and metrics for less work per request; "
        "the contrib instrumentors add none) or `contrib` (the contrib ASGI middleware, also "
        "used whenever `OTEL_DISTRO_ASGI_INTERNAL_SPANS` is on; Starlette apps then need "
        "`otel-distro[contrib-starlette]`).",
    ),
    Variable(
        "OTEL_DISTRO_TRUSTED_PEERS",
        "trusted_peers",
        parse_networks,
        (),
        "CIDR list of peers whose inbound protected baggage keys are honoured.",
        default_doc="(empty)",
    ),
    Variable(
        "OTEL_DISTRO_PROTECTED_BAGGAGE_KEYS",
        "protected_baggage_keys",
        parse_list,
        (),
        "Extra baggage keys (besides `tenant.id`, `user.id`) dropped from untrusted peers.",
        default_doc="(empty)",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_MAX_BYTES",
        "baggage_max_bytes",
        int_between(0, 8192),
        8192,
        "An inbound `baggage` header longer than this is dropped whole.",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_PROPAGATE_TO",
        "baggage_propagate_to",
        parse_list,
        parse_list(_DEFAULT_PROPAGATE_TO),
        "Hosts (globs) and CIDRs that outbound baggage may be sent to; "
        "`traceparent` flows everywhere.",
        default_doc="loopback, private ranges, `*.internal`, `*.svc.cluster.local`",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_ATTRIBUTES",
        "baggage_attributes",
        parse_list,
        ("tenant.id", "user.id"),
        "Baggage keys copied onto every span and log record.",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_SIGNING_KEYS",
        "baggage_signing_keys",
        parse_signing_keys,
        (),
        "Shared keys `kid:secret,...` (secret >= 32 bytes): the first signs outbound "
        "protected baggage, all verify inbound signatures (see Signed baggage).",
        secret=True,
        default_doc="(empty: no signing)",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_SIGNATURE_TTL_SECONDS",
        "baggage_signature_ttl_seconds",
        int_between(1, 86400),
        300,
        "How long an outbound baggage signature stays valid.",
    ),
    Variable(
        "OTEL_DISTRO_BAGGAGE_REQUIRE_SIGNATURE",
        "baggage_require_signature",
        parse_bool,
        False,
        "Honour inbound protected baggage only with a valid signature, even from trusted peers.",
    ),
)
