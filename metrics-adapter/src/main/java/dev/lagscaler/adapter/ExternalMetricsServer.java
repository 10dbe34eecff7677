package dev.lagscaler.adapter;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The adapter's HTTPS server (HTTP/2 and HTTP/1.1): authenticates the aggregator by its front-proxy client
 * certificate (then trusts the user, group and extra headers that extension-apiserver-authentication names) or a
 * bearer token by TokenReview (a bounded number a second), authorizes every request by SubjectAccessReview, and
 * answers from {@link ExternalMetricsApi}. Health endpoints need no authentication.
 */
public final class ExternalMetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExternalMetricsServer.class);

    /**
     * Where to listen and the serving certificate (PEM). With {@code certificateFile} and {@code keyFile} (where the
     * PEM came from), the files are read again every {@link #RELOAD_EVERY} and a changed pair is served to new
     * connections: a rotated Secret (cert-manager renews before expiry) needs no restart.
     */
    public record Options(String host, int port, String certificatePem, String privateKeyPem,
                          java.nio.file.Path certificateFile, java.nio.file.Path keyFile) {
        public Options(String host, int port, String certificatePem, String privateKeyPem) {
            this(host, port, certificatePem, privateKeyPem, null, null);
        }
    }

    static final java.time.Duration RELOAD_EVERY = java.time.Duration.ofSeconds(10);

    private final Vertx vertx;
    private final ExternalMetricsApi api;
    private final MetricStore store;
    private final KubernetesAccess access;
    private final KubernetesAccess.FrontProxy frontProxy;
    private HttpServer server;
    private final List<HttpServer> extraServers = new java.util.ArrayList<>();

    private final AdapterMetrics metrics;
    private static final String PEER_CN = "dev.lagscaler.adapter.peer-cn";

    private ExternalMetricsServer(Vertx vertx, MetricStore store, KubernetesAccess access, KubernetesAccess.FrontProxy frontProxy,
                                  AdapterMetrics metrics) {
        this.metrics = metrics;
        this.vertx = vertx;
        this.api = new ExternalMetricsApi(store);
        this.store = store;
        this.access = access;
        this.frontProxy = frontProxy;
    }

    public static ExternalMetricsServer start(Vertx vertx, Options options, MetricStore store, KubernetesAccess access,
                                              AdapterMetrics metrics) throws Exception {
        KubernetesAccess.FrontProxy frontProxy = access.frontProxy();
        ExternalMetricsServer s = new ExternalMetricsServer(vertx, store, access, frontProxy, metrics);
        HttpServerOptions http = new HttpServerOptions().setHost(options.host()).setPort(options.port())
                .setSsl(true).setUseAlpn(true)
                .setKeyCertOptions(new PemKeyCertOptions().addCertValue(Buffer.buffer(options.certificatePem()))
                        .addKeyValue(Buffer.buffer(options.privateKeyPem())))
                .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(frontProxy.caPem())))
                .setClientAuth(ClientAuth.REQUEST);
        // One server per core, each on its own event loop, all on one port (Vert.x shares it between them): a server
        // created outside a verticle would otherwise run every TLS connection on a single event loop.
        s.server = listenOnNewContext(vertx, http, s).await();
        // Same options, same requested address (even port 0): Vert.x binds once and shares the socket.
        for (int i = 1; i < Runtime.getRuntime().availableProcessors(); i++) {
            s.extraServers.add(listenOnNewContext(vertx, http, s).await());
        }
        if (options.certificateFile() != null && options.keyFile() != null) {
            s.reloadCertificate(options);
        }
        LOG.atInfo().addKeyValue("address", options.host() + ":" + s.server.actualPort())
                .addKeyValue("front_proxy_names", frontProxy.allowedNames()).log("adapter started");
        return s;
    }

    /** Watches the serving certificate's files; a changed pair goes to every server (new connections use it). */
    private void reloadCertificate(Options options) {
        String[] inUse = {options.certificatePem() + options.privateKeyPem()};
        vertx.setPeriodic(RELOAD_EVERY.toMillis(), id -> vertx.executeBlocking(() -> {
            String cert = java.nio.file.Files.readString(options.certificateFile());
            String key = java.nio.file.Files.readString(options.keyFile());
            return new String[] {cert, key};
        }, false).onComplete((pair, failure) -> {
            if (failure != null) {
                LOG.atWarn().addKeyValue("error", failure.getMessage()).log("serving certificate not reloaded");
                return;
            }
            if ((pair[0] + pair[1]).equals(inUse[0])) {
                return;
            }
            inUse[0] = pair[0] + pair[1];
            io.vertx.core.net.ServerSSLOptions ssl = new io.vertx.core.net.ServerSSLOptions().setUseAlpn(true)
                    .setClientAuth(ClientAuth.REQUEST)
                    .setKeyCertOptions(new PemKeyCertOptions().addCertValue(Buffer.buffer(pair[0])).addKeyValue(Buffer.buffer(pair[1])))
                    .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(frontProxy.caPem())));
            List<HttpServer> all = new ArrayList<>(extraServers);
            all.add(server);
            all.forEach(each -> each.updateSSLOptions(ssl, true));
            LOG.atInfo().log("serving certificate reloaded");
        }));
    }

    private static Future<HttpServer> listenOnNewContext(Vertx vertx, HttpServerOptions options, ExternalMetricsServer s) {
        io.vertx.core.Promise<HttpServer> promise = io.vertx.core.Promise.promise();
        vertx.getOrCreateContext().runOnContext(v -> vertx.createHttpServer(options).requestHandler(s::handle).listen()
                .onComplete(promise));
        return promise.future();
    }

    public int port() {
        return server.actualPort();
    }

    private void handle(HttpServerRequest request) {
        long started = System.nanoTime();
        request.response().endHandler(v -> metrics.request(request.response().getStatusCode(), request.version(),
                System.nanoTime() - started));
        String path = request.path();
        switch (path) {
            case "/livez", "/healthz" -> {
                respond(request, ExternalMetricsApi.healthy());
                return;
            }
            case "/readyz" -> {
                respond(request, store.synced() ? ExternalMetricsApi.healthy()
                        : ExternalMetricsApi.status(503, "ServiceUnavailable", "waiting for the scaler's feed"));
                return;
            }
            default -> {
            }
        }
        if (request.method() != io.vertx.core.http.HttpMethod.GET) {
            respond(request, ExternalMetricsApi.status(405, "MethodNotAllowed", "only GET is served"));
            return;
        }
        Caller fromProxy = frontProxyCaller(request);
        if (fromProxy != null) {
            authorize(request, path, fromProxy);
            return;
        }
        String bearer = request.getHeader("Authorization");
        if (bearer == null || !bearer.startsWith("Bearer ") || bearer.length() <= 7) {
            respond(request, UNAUTHORIZED);
            return;
        }
        // Cached reviews are answered on the event loop; only a cache miss goes to a worker and the apiserver.
        String token = bearer.substring(7).trim();
        var cached = access.cachedReview(token);
        if (cached.isPresent()) {
            authorize(request, path, cached.get().orElse(null));
        } else {
            vertx.executeBlocking(() -> access.review(token), false).onComplete((caller, failure) -> {
                if (failure != null) {
                    unchecked(request, failure);
                } else {
                    authorize(request, path, caller);
                }
            });
        }
    }

    private static final ExternalMetricsApi.Response UNAUTHORIZED = ExternalMetricsApi.status(401, "Unauthorized", "Unauthorized");

    /**
     * Answers an authenticated caller (null: not authenticated), on the event loop when its review is cached. The
     * request is parsed only now: an unauthenticated client leaves nothing in the adapter's caches.
     */
    private void authorize(HttpServerRequest request, String path, Caller caller) {
        if (caller == null) {
            respond(request, UNAUTHORIZED);
            return;
        }
        ExternalMetricsApi.Request parsed = api.request(path, request.query());
        ExternalMetricsApi.Target target = parsed.target();
        String namespace = target == null ? null : target.namespace();
        String metric = target == null ? null : target.metric();
        Boolean cachedAllowed = access.cachedAllowed(caller, namespace, metric, parsed.path(),
                refresh -> vertx.executeBlocking(() -> {
                    refresh.run();
                    return null;
                }, false));
        if (cachedAllowed != null) {
            respond(request, answer(parsed, caller, cachedAllowed));
            return;
        }
        vertx.executeBlocking(() -> access.allowed(caller, namespace, metric, parsed.path()), false)
                .onComplete((allowed, failure) -> {
                    if (failure != null) {
                        unchecked(request, failure);
                    } else {
                        respond(request, answer(parsed, caller, allowed));
                    }
                });
    }

    private ExternalMetricsApi.Response answer(ExternalMetricsApi.Request parsed, Caller caller, boolean allowed) {
        if (allowed) {
            return api.get(parsed, Instant.now());
        }
        ExternalMetricsApi.Target target = parsed.target();
        return ExternalMetricsApi.status(403, "Forbidden", "user \"" + caller.user() + "\" cannot get "
                + (target == null ? "path " + parsed.path() : target.metric() + " in namespace " + target.namespace()));
    }

    private static void unchecked(HttpServerRequest request, Throwable failure) {
        if (failure instanceof KubernetesAccess.TooManyReviews) {
            request.response().putHeader("Retry-After", "1");
            respond(request, ExternalMetricsApi.status(429, "TooManyRequests", failure.getMessage()));
            return;
        }
        LOG.atWarn().addKeyValue("path", request.path()).addKeyValue("error", String.valueOf(failure.getMessage()))
                .log("authentication or authorization check failed");
        respond(request, ExternalMetricsApi.status(503, "ServiceUnavailable", "authentication or authorization"
                + " could not be checked with the apiserver"));
    }

    /** The caller the aggregator vouches for, when the client certificate is the front proxy's. */
    private Caller frontProxyCaller(HttpServerRequest request) {
        String cn = peerCommonName(request);
        if (cn == null || (!frontProxy.allowedNames().isEmpty() && !frontProxy.allowedNames().contains(cn))) {
            return null;
        }
        String user = null;
        for (String header : frontProxy.usernameHeaders()) {
            String value = request.getHeader(header);
            if (value != null && !value.isEmpty()) {
                user = value;
                break;
            }
        }
        if (user == null) {
            return null;
        }
        List<String> groups = new ArrayList<>();
        frontProxy.groupHeaders().forEach(header -> groups.addAll(request.headers().getAll(header)));
        // Extra attributes: each header under a prefix, its rest the key (lower case, percent-decoded, as the
        // apiserver's requestheader authenticator reads it).
        Map<String, List<String>> extra = new java.util.TreeMap<>();
        for (Map.Entry<String, String> header : request.headers()) {
            for (String prefix : frontProxy.extraHeaderPrefixes()) {
                if (header.getKey().regionMatches(true, 0, prefix, 0, prefix.length())) {
                    String key = java.net.URLDecoder.decode(header.getKey().substring(prefix.length()),
                            java.nio.charset.StandardCharsets.UTF_8).toLowerCase(java.util.Locale.ROOT);
                    extra.computeIfAbsent(key, k -> new ArrayList<>()).add(header.getValue());
                }
            }
        }
        return new Caller(user, groups, extra);
    }

    /**
     * The verified client certificate's common name, or null without one. Read once per TLS session and kept on it:
     * asking the engine for the peer certificates of a session without one throws (a stack trace per request), and
     * the subject is parsed as an LDAP name.
     */
    private static String peerCommonName(HttpServerRequest request) {
        javax.net.ssl.SSLSession session = request.connection().sslSession();
        if (session == null) {
            return null;
        }
        Object cached = session.getValue(PEER_CN);
        if (cached == null) {
            String cn = "";
            try {
                List<Certificate> chain = request.connection().peerCertificates();
                if (chain != null && !chain.isEmpty() && chain.get(0) instanceof X509Certificate cert) {
                    cn = commonName(cert);
                }
            } catch (SSLPeerUnverifiedException e) {
                cn = "";
            }
            session.putValue(PEER_CN, cn);
            cached = cn;
        }
        return ((String) cached).isEmpty() ? null : (String) cached;
    }

    private static String commonName(X509Certificate cert) {
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
        } catch (javax.naming.InvalidNameException e) {
            return "";
        }
        return "";
    }

    private static final CharSequence CONTENT_TYPE = io.vertx.core.http.HttpHeaders.createOptimized("Content-Type");
    private static final CharSequence JSON = io.vertx.core.http.HttpHeaders.createOptimized("application/json");

    private static void respond(HttpServerRequest request, ExternalMetricsApi.Response response) {
        request.response().setStatusCode(response.status()).putHeader(CONTENT_TYPE, JSON).end(response.body());
    }

    @Override
    public void close() {
        extraServers.forEach(extra -> extra.close().await());
        if (server != null) {
            server.close().await();
        }
    }
}
