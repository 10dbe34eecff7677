package dev.lagscaler.feed;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Mutual TLS on the operator → adapter feed, the same for both ends: each presents its certificate and key (PEM
 * files), trusts one CA, and checks the other's identity. The adapter checks the operator by host name (the address it
 * dials must be in the operator's certificate); the operator admits only a client whose certificate names
 * {@code peer} (its common name or a DNS name). The files are read again every {@link #RELOAD_EVERY} and a changed set
 * is put in use for new connections, so a rotated Secret needs no restart.
 */
public record FeedTls(Path certificate, Path key, Path ca, String peer) {
    public static final Duration RELOAD_EVERY = Duration.ofSeconds(10);

    /** The files as they are now: certificate, key and CA. */
    private record Material(Buffer certificate, Buffer key, Buffer ca) {
    }

    /**
     * From a command's flags: all three files, or none (null: plaintext). Each file must be readable now: a typo
     * is a flag error at start, not a feed that never connects.
     */
    public static FeedTls fromFlags(Path certificate, Path key, Path ca, String peer) {
        int given = (certificate == null ? 0 : 1) + (key == null ? 0 : 1) + (ca == null ? 0 : 1);
        if (given == 0) {
            return null;
        }
        if (given != 3) {
            throw new IllegalArgumentException("--feed-cert, --feed-key and --feed-ca go together");
        }
        FeedTls tls = new FeedTls(certificate, key, ca, peer);
        tls.read();
        return tls;
    }

    private Material read() {
        try {
            return new Material(Buffer.buffer(Files.readAllBytes(certificate)), Buffer.buffer(Files.readAllBytes(key)),
                    Buffer.buffer(Files.readAllBytes(ca)));
        } catch (IOException e) {
            throw new UncheckedIOException("the feed's TLS files could not be read: " + e.getMessage(), e);
        }
    }

    /** Server options: TLS with HTTP/2 by ALPN, a client certificate required and checked against the CA. */
    public HttpServerOptions serverOptions(HttpServerOptions base) {
        Material m = read();
        return base.setSsl(true).setUseAlpn(true).setClientAuth(ClientAuth.REQUIRED)
                .setKeyCertOptions(new PemKeyCertOptions().addCertValue(m.certificate()).addKeyValue(m.key()))
                .setTrustOptions(new PemTrustOptions().addCertValue(m.ca()));
    }

    /** Client options: HTTP/2 over TLS, this side's certificate, the CA, and the server's host name verified. */
    public HttpClientOptions clientOptions() {
        Material m = read();
        return new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setSsl(true).setUseAlpn(true)
                .setVerifyHost(true).setHttp2ClearTextUpgrade(false)
                .setKeyCertOptions(new PemKeyCertOptions().addCertValue(m.certificate()).addKeyValue(m.key()))
                .setTrustOptions(new PemTrustOptions().addCertValue(m.ca()));
    }

    /**
     * Whether the verified client of {@code request} is {@code peer}. The TLS handshake has already checked its
     * chain against the CA; this checks that the certificate is the adapter's, not any other of that CA.
     */
    public boolean admits(HttpServerRequest request) {
        SSLSession session = request.connection().sslSession();
        if (session == null) {
            return false;
        }
        try {
            if (!(session.getPeerCertificates()[0] instanceof X509Certificate cert)) {
                return false;
            }
            return names(cert).contains(peer);
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }

    /** The certificate's common names and DNS names. */
    static List<String> names(X509Certificate cert) {
        java.util.ArrayList<String> names = new java.util.ArrayList<>();
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    names.add(rdn.getValue().toString());
                }
            }
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        names.add(san.get(1).toString());
                    }
                }
            }
        } catch (InvalidNameException | CertificateParsingException e) {
            return List.of();
        }
        return names;
    }

    /** Reads the files every {@link #RELOAD_EVERY} and gives the server a changed set (new connections use it). */
    public long reloadEvery(Vertx vertx, HttpServer server, Consumer<String> changed) {
        return watch(vertx, changed, m -> server.updateSSLOptions(new ServerSSLOptions().setClientAuth(ClientAuth.REQUIRED)
                .setUseAlpn(true)
                .setKeyCertOptions(new PemKeyCertOptions().addCertValue(m.certificate()).addKeyValue(m.key()))
                .setTrustOptions(new PemTrustOptions().addCertValue(m.ca())), true));
    }

    /** Reads the files every {@link #RELOAD_EVERY} and gives the client a changed set (new connections use it). */
    public long reloadEvery(Vertx vertx, HttpClientAgent client, Consumer<String> changed) {
        return watch(vertx, changed, m -> client.updateSSLOptions(new ClientSSLOptions().setHostnameVerificationAlgorithm("HTTPS")
                .setUseAlpn(true)
                .setKeyCertOptions(new PemKeyCertOptions().addCertValue(m.certificate()).addKeyValue(m.key()))
                .setTrustOptions(new PemTrustOptions().addCertValue(m.ca())), true));
    }

    private long watch(Vertx vertx, Consumer<String> changed, Consumer<Material> apply) {
        Material[] inUse = {read()};
        return vertx.setPeriodic(RELOAD_EVERY.toMillis(), id -> {
            Material now;
            try {
                now = read();
            } catch (UncheckedIOException e) {
                changed.accept("not reloaded: " + e.getMessage()); // mid-rotation: the next look reads the whole set
                return;
            }
            if (!same(now, inUse[0])) {
                inUse[0] = now;
                apply.accept(now);
                changed.accept("reloaded");
            }
        });
    }

    private static boolean same(Material a, Material b) {
        return Arrays.equals(a.certificate().getBytes(), b.certificate().getBytes())
                && Arrays.equals(a.key().getBytes(), b.key().getBytes()) && Arrays.equals(a.ca().getBytes(), b.ca().getBytes());
    }
}
