package dev.lagscaler.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.feed.v1.MetricUpdate;
import java.time.Instant;
import java.util.Map;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The external metrics API as a pure function: answers, errors, and fuzzed input that never gives a 5xx. */
class ExternalMetricsApiTest {
    static final Instant NOW = Instant.parse("2026-01-01T00:00:10Z");
    static final String PATH = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/s0-kafka-events";
    static final String QUERY = "labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject";

    static MetricStore store(MetricUpdate... updates) {
        MetricStore store = new MetricStore();
        for (MetricUpdate u : updates) {
            store.apply(u);
        }
        store.apply(MetricUpdate.newBuilder().setSnapshotDone(true).build());
        return store;
    }

    static MetricUpdate value(String metric, long milli) {
        return MetricUpdate.newBuilder().setNamespace("default").setScaledObject("kafka-scaledobject").setMetricName(metric)
                .setValueMilli(milli).setTimestampMillis(NOW.toEpochMilli() - 1000).setStaleAfterMillis(90_000).build();
    }

    @Test
    void servesTheValueAsAQuantity() {
        var r = new ExternalMetricsApi(store(value("s0-kafka-events", 400_000))).get(PATH, QUERY, NOW);
        assertEquals(200, r.status());
        assertTrue(r.body().contains("\"value\":\"400\""), r.body());
        assertTrue(r.body().contains("\"kind\":\"ExternalMetricValueList\""));
        assertEquals("1500m", ExternalMetricsApi.quantity(1500));
    }

    @Test
    void errorsAreKubernetesStatuses() {
        ExternalMetricsApi api = new ExternalMetricsApi(store(value("s0-kafka-events", 1000)));
        assertEquals(400, api.get(PATH, "labelSelector=%%%", NOW).status());
        assertEquals(400, api.get(PATH, "labelSelector=app%3Dx", NOW).status(), "must select the ScaledObject");
        assertEquals(400, api.get(PATH, "labelSelector=!!", NOW).status());
        assertEquals(404, api.get(PATH.replace("s0-kafka-events", "s1-kafka-other"), QUERY, NOW).status());
        assertEquals(404, api.get(PATH, "labelSelector=scaledobject.keda.sh%2Fname%3Dnone", NOW).status());
        assertEquals(503, new ExternalMetricsApi(new MetricStore()).get(PATH, QUERY, NOW).status(), "no value known yet");
        var failing = MetricUpdate.newBuilder(value("s0-kafka-events", 0)).setError("BROKER_UNREACHABLE: timeout").build();
        assertEquals(503, new ExternalMetricsApi(store(failing)).get(PATH, QUERY, NOW).status());
        assertEquals(503, api.get(PATH, QUERY, NOW.plusSeconds(3600)).status(), "stale values are errors, not numbers");
        assertTrue(api.get(PATH, QUERY, NOW.plusSeconds(3600)).body().contains("\"kind\":\"Status\""));
    }

    @Test
    void aRepeatedRequestAnswersTheLatestValue() {
        MetricStore store = store(value("s0-kafka-events", 1000));
        ExternalMetricsApi api = new ExternalMetricsApi(store);
        assertTrue(api.get(PATH, QUERY, NOW).body().contains("\"value\":\"1\""));
        assertTrue(api.get(PATH, QUERY, NOW).body().contains("\"value\":\"1\""), "the parsed request and body, kept");
        store.apply(value("s0-kafka-events", 7000));
        assertTrue(api.get(PATH, QUERY, NOW).body().contains("\"value\":\"7\""), "a new value, a new body");
        assertTrue(api.get(PATH.replace("s0-kafka-events", "S0-Kafka-Events"), QUERY, NOW).body().contains("\"value\":\"7\""),
                "metric names match without regard to case");
        assertEquals(400, api.get(PATH, "labelSelector=app%3Dx", NOW).status());
        assertEquals(400, api.get(PATH, "labelSelector=app%3Dx", NOW).status(), "refused requests stay refused");
        store.apply(MetricUpdate.newBuilder(value("s0-kafka-events", 0)).setRemoved(true).build());
        assertEquals(404, api.get(PATH, QUERY, NOW).status(), "a removed metric is not served from the kept request");
        store.apply(value("s0-kafka-events", 9000));
        assertTrue(api.get(PATH, QUERY, NOW).body().contains("\"value\":\"9\""), "back once reported again");
        store.resyncStarting(MetricStore.LEADER);
        store.apply(MetricUpdate.newBuilder().setSnapshotDone(true).build());
        assertEquals(404, api.get(PATH, QUERY, NOW).status(), "a resync that no longer mentions it removes it");
    }

    /**
     * KEDA names a metric after its topic ({@code s0-kafka-<topic>}) and ScaledObjects are often named after theirs:
     * with a record's default hash both names' varying characters move the sum together and its low bits stay put,
     * so a hash map's lookups walk long buckets (100 such objects filled 16 of 256 buckets; 1,000 filled 201 of 2,048).
     */
    @Test
    void keysNamedAlikeSpreadOverAHashTable() {
        for (int objects : new int[] {100, 1000}) {
            int buckets = Integer.highestOneBit(objects * 4 / 3) * 2;
            java.util.Set<Integer> used = new java.util.HashSet<>();
            for (int i = 0; i < objects; i++) {
                int h = new MetricStore.Key("shop", "orders-" + i, "s0-kafka-orders-" + i).hashCode();
                used.add((h ^ (h >>> 16)) & (buckets - 1)); // how HashMap and ConcurrentHashMap pick a bucket
            }
            // Uniform hashing fills about buckets * (1 - e^(-objects / buckets)): 82 of 256, 787 of 2,048.
            assertTrue(used.size() > objects * 6 / 10, objects + " keys used " + used.size() + " of " + buckets + " buckets");
        }
    }

    @Test
    void discoveryListsTheGroupAndMetrics() {
        ExternalMetricsApi api = new ExternalMetricsApi(store(value("s0-kafka-events", 1000)));
        assertTrue(api.get("/apis", null, NOW).body().contains("external.metrics.k8s.io/v1beta1"));
        assertTrue(api.get("/apis/external.metrics.k8s.io/v1beta1", null, NOW).body().contains("\"name\":\"s0-kafka-events\""));
        assertEquals(200, api.get("/openapi/v2", null, NOW).status());
        assertEquals(200, api.get("/openapi/v3", null, NOW).status());
    }

    @Test
    void resyncDropsWhatTheNewSnapshotLacks() {
        MetricStore store = store(value("s0-kafka-events", 1000), value("s1-kafka-gone", 1000));
        store.resyncStarting(MetricStore.LEADER);
        store.apply(value("s0-kafka-events", 2000));
        store.apply(MetricUpdate.newBuilder().setSnapshotDone(true).build());
        assertEquals(1, store.size());
    }

    @Test
    void selectorsParseLikeKubernetes() {
        assertEquals(Map.of("scaledobject.keda.sh/name", "so"), ExternalMetricsApi.selector("scaledobject.keda.sh/name=so"));
        assertEquals(Map.of("a", "b", "c", "d"), ExternalMetricsApi.selector("a==b, c in (d)"));
        assertThrows(IllegalArgumentException.class, () -> ExternalMetricsApi.selector("a!=b"));
        assertThrows(IllegalArgumentException.class, () -> ExternalMetricsApi.selector("a in (b,c)"));
    }

    /**
     * Coverage-guided: in a normal test run Jazzer replays the corpus under src/test/resources (and an empty input);
     * {@code JAZZER_FUZZ=1 ./mvnw -pl metrics-adapter test -Dtest=ExternalMetricsApiTest#fuzzedRequestsNeverFailTheServer}
     * fuzzes for the set duration and adds what it finds to that corpus.
     */
    @FuzzTest(maxDuration = "60s")
    void fuzzedRequestsNeverFailTheServer(FuzzedDataProvider data) {
        String path = data.pickValue(new String[] {"/apis/external.metrics.k8s.io/v1beta1/", "/apis/", "/", "/openapi/"})
                + data.consumeString(200);
        String query = data.consumeBoolean() ? null : data.consumeRemainingAsString();
        assertNoServerError(path, query);
    }

    /** Seeded random requests shaped like the API's paths and selectors, so every run covers the same 3,000. */
    @Test
    void randomRequestsNeverFailTheServer() {
        Random random = new Random(20261126L);
        String[] segments = {"default", "s0-kafka-events", "..", "%2F", "", "namespaces", "v1beta1"};
        for (int i = 0; i < 3000; i++) {
            String path;
            if (random.nextBoolean()) {
                StringBuilder b = new StringBuilder("/apis/external.metrics.k8s.io/v1beta1/");
                int parts = random.nextInt(9);
                for (int s = 0; s < parts; s++) {
                    b.append(s > 0 ? "/" : "").append(random.nextBoolean() ? segments[random.nextInt(segments.length)]
                            : randomString(random, 40, Character.MAX_VALUE));
                }
                path = b.toString();
            } else {
                path = "/" + randomString(random, 200, Character.MAX_VALUE);
            }
            String query = switch (random.nextInt(4)) {
                case 0 -> null;
                case 1 -> randomString(random, 200, Character.MAX_VALUE);
                case 2 -> "labelSelector=" + randomString(random, 80, Character.MAX_VALUE);
                default -> "labelSelector=scaledobject.keda.sh%2Fname%3D" + randomString(random, 80, '~');
            };
            assertNoServerError(path, query);
        }
    }

    private static String randomString(Random random, int maxLength, char maxChar) {
        char[] chars = new char[random.nextInt(maxLength + 1)];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = (char) (maxChar == '~' ? ' ' + random.nextInt('~' - ' ' + 1) : random.nextInt(maxChar + 1));
        }
        return new String(chars);
    }

    private static void assertNoServerError(String path, String query) {
        ExternalMetricsApi api = new ExternalMetricsApi(store(value("s0-kafka-events", 1000)));
        var response = api.get(path, query, NOW);
        assertTrue(response.status() < 500, () -> response.status() + " for " + path + " ? " + query);
        assertTrue(response.body().startsWith("{"), response.body());
    }
}
