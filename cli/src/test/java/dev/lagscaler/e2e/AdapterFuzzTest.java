package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.feed.v1.MetricUpdate;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.tls.Pki;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Random paths, selectors and headers against the live adapter (TLS, real TokenReview and SubjectAccessReview):
 * never a 5xx, forged X-Remote-* headers without the front proxy's certificate are never trusted, memory stays flat.
 */
@WithControlPlane
class AdapterFuzzTest {
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-._/%=,!()&? ABCXYZ";
    /** 429 is the TokenReview budget turning away a flood of unknown tokens (with Retry-After), as it should. */
    private static final Set<Integer> ALLOWED = Set.of(200, 400, 401, 403, 404, 405, 429);

    @Test
    void randomRequestsNeverFailTheServer(LocalControlPlane plane) throws Exception {
        Pki.Issued ca = Pki.ca("fuzz-ca");
        Pki.Issued serving = Pki.server(ca, "adapter", List.of("localhost"), List.of("127.0.0.1"));
        try (MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
             MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(),
                     new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()))) {
            feed.leading(true); // standing in for a leading operator
            feed.publish(MetricUpdate.newBuilder().setNamespace("default").setScaledObject("so").setMetricName("s0-kafka-t")
                    .setValueMilli(5000).setTimestampMillis(System.currentTimeMillis()).build());
            ChildProcess.await("the adapter's snapshot", Duration.ofSeconds(15), Duration.ofMillis(20),
                    () -> adapter.store().synced() && adapter.store().size() == 1);
            HttpClient http = client(ca);
            String base = "https://127.0.0.1:" + adapter.port();
            String valid = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/s0-kafka-t"
                    + "?labelSelector=scaledobject.keda.sh%2Fname%3Dso";

            // Forged front-proxy headers without the front proxy's client certificate: 401.
            HttpResponse<String> forged = http.send(HttpRequest.newBuilder(URI.create(base + valid))
                    .header("X-Remote-User", "system:admin").header("X-Remote-Group", "system:masters").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, forged.statusCode(), forged.body());
            HttpResponse<String> admin = http.send(HttpRequest.newBuilder(URI.create(base + valid))
                    .header("Authorization", "Bearer " + plane.adminToken()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, admin.statusCode(), admin.body());

            Random random = new Random(20261125);
            long heapBefore = usedHeapAfterGc();
            for (int i = 0; i < 1500; i++) {
                String path = switch (random.nextInt(4)) {
                    case 0 -> valid.replace("s0-kafka-t", junk(random, 30));
                    case 1 -> "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + junk(random, 20) + "/" + junk(random, 20);
                    case 2 -> "/" + junk(random, 60);
                    default -> valid.substring(0, valid.indexOf('?')) + "?labelSelector=" + junk(random, 50);
                };
                URI uri;
                try {
                    uri = URI.create(base + path.replace(" ", "%20").replace("%%", "%25%"));
                } catch (IllegalArgumentException e) {
                    continue; // not even a URI: no client could send it
                }
                HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));
                if (random.nextBoolean()) {
                    request.header("Authorization", random.nextInt(3) == 0 ? "Bearer " + plane.adminToken()
                            : (random.nextBoolean() ? "Bearer " : "") + junk(random, 40).trim());
                }
                if (random.nextBoolean()) {
                    request.header("X-Remote-User", junk(random, 20).trim() + "x");
                    request.header("X-Remote-Group", junk(random, 20).trim() + "g");
                }
                HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                assertTrue(ALLOWED.contains(response.statusCode()), response.statusCode() + " for " + uri + ": " + response.body());
                if (response.statusCode() == 429) {
                    assertTrue(response.headers().firstValue("Retry-After").isPresent(), "a 429 says when to come back");
                }
                assertTrue(response.body().startsWith("{"), response.body());
            }
            long growth = usedHeapAfterGc() - heapBefore;
            System.out.println("adapter fuzz: heap growth after 1,500 requests: " + growth / 1024 + " KiB");
            assertTrue(growth < 64L * 1024 * 1024, "heap grew by " + growth / (1024 * 1024) + " MiB");
        }
    }

    private static String junk(Random random, int max) {
        StringBuilder b = new StringBuilder();
        int n = random.nextInt(max + 1);
        for (int i = 0; i < n; i++) {
            b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return b.toString();
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static HttpClient client(Pki.Issued ca) {
        return HttpClient.newBuilder().sslContext(Pki.sslContext(null, ca)).connectTimeout(Duration.ofSeconds(5)).build();
    }
}
