package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.tls.Pki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The adapter's own door, on the real control plane: its serving certificate rotates without a restart; and a flood
 * of random bearer tokens, each of which would cost the apiserver one TokenReview, costs at most the adapter's budget
 * (20 a second, bursts of 40), the rest answered 429 with Retry-After and none let in. The reviews are counted by the
 * real apiserver ({@code apiserver_request_total}).
 */
@Tag("fault")
@WithControlPlane
class AdapterDoorTest {
    private static long tokenReviews(LocalControlPlane plane) throws Exception {
        long total = 0;
        for (String line : plane.kubectl("get", "--raw", "/metrics").split("\n")) {
            if (line.startsWith("apiserver_request_total{") && line.contains("resource=\"tokenreviews\"")
                    && line.contains("verb=\"POST\"")) {
                total += Math.round(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return total;
    }

    /** The adapter's serving certificate, rotated in its files, is served to new connections without a restart. */
    @Test
    void aRotatedServingCertificateIsServedWithoutARestart(LocalControlPlane plane) throws Exception {
        Pki.Issued ca = Pki.ca("rotating-adapter-ca");
        Pki.Issued first = ExternalMetricsEndToEndTest.adapterCertificate(ca);
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("adapter-cert-");
        java.nio.file.Path cert = java.nio.file.Files.writeString(dir.resolve("tls.crt"), first.certificatePem());
        java.nio.file.Path key = java.nio.file.Files.writeString(dir.resolve("tls.key"), first.privateKeyPem());
        try (MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
             MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(),
                     new ExternalMetricsServer.Options("127.0.0.1", 0, first.certificatePem(), first.privateKeyPem(), cert, key))) {
            assertEquals(first.certificate().getSerialNumber(), servedSerial(adapter.port(), ca));
            Pki.Issued second = ExternalMetricsEndToEndTest.adapterCertificate(ca);
            java.nio.file.Files.writeString(key, second.privateKeyPem());
            java.nio.file.Files.writeString(cert, second.certificatePem());
            long rotated = System.nanoTime();
            dev.lagscaler.testing.ChildProcess.await("the rotated serving certificate", java.time.Duration.ofSeconds(60),
                    java.time.Duration.ofMillis(200),
                    () -> servedSerial(adapter.port(), ca).equals(second.certificate().getSerialNumber()));
            FaultFigures.record("adapter-serving-certificate-rotation",
                    Map.of("rotation_to_served_ms", (System.nanoTime() - rotated) / 1_000_000));
        }
    }

    private static java.math.BigInteger servedSerial(int port, Pki.Issued ca) throws Exception {
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) Pki.sslContext(null, ca).getSocketFactory()
                .createSocket("127.0.0.1", port)) {
            socket.startHandshake();
            return ((java.security.cert.X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    @Test
    void randomTokensCostABoundedNumberOfTokenReviews(LocalControlPlane plane) throws Exception {
        Pki.Issued ca = Pki.ca("flood-adapter-ca");
        Pki.Issued serving = ExternalMetricsEndToEndTest.adapterCertificate(ca);
        HttpClient http = HttpClient.newBuilder().sslContext(Pki.sslContext(null, ca)).build();
        Map<Integer, Integer> codes = new TreeMap<>();
        Map<String, Object> figures = new LinkedHashMap<>();
        try (MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
             MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(),
                     new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()))) {
            long before = tokenReviews(plane);
            long started = System.nanoTime();
            int requests = 300;
            for (int i = 0; i < requests; i++) {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("https://localhost:"
                                + adapter.port() + "/apis/external.metrics.k8s.io/v1beta1/namespaces/x/m"))
                        .header("Authorization", "Bearer " + UUID.randomUUID()).build(), HttpResponse.BodyHandlers.ofString());
                codes.merge(response.statusCode(), 1, Integer::sum);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            long reviews = tokenReviews(plane) - before;
            assertEquals(requests, codes.getOrDefault(401, 0) + codes.getOrDefault(429, 0), "refused, all: " + codes);
            int unauthorized = codes.getOrDefault(401, 0);
            assertTrue(reviews >= unauthorized && reviews <= unauthorized + 2,
                    reviews + " reviews: one per 401, none per 429: " + codes);
            long bound = 40 + Math.round(20 * seconds) + 1;
            assertTrue(reviews <= bound, reviews + " TokenReviews for " + requests + " random tokens in "
                    + String.format("%.1f", seconds) + " s (bound " + bound + ")");
            figures.put("random_tokens", requests);
            figures.put("seconds", Math.round(seconds * 10) / 10.0);
            figures.put("token_reviews", reviews);
            figures.put("answered_429", codes.getOrDefault(429, 0));
        }
        FaultFigures.record("bearer-token-flood", figures);
    }
}
