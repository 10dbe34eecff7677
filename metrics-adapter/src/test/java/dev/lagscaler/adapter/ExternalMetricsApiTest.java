package dev.lagscaler.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.feed.v1.MetricUpdate;
import java.time.Instant;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
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
        store.resyncStarting();
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

    @Provide
    Arbitrary<Tuple.Tuple2<String, String>> requests() {
        Arbitrary<String> segment = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(40),
                Arbitraries.of("default", "s0-kafka-events", "..", "%2F", "", "namespaces", "v1beta1"));
        Arbitrary<String> path = segment.list().ofMaxSize(8).map(parts -> "/apis/external.metrics.k8s.io/v1beta1/" + String.join("/", parts));
        Arbitrary<String> anyPath = Arbitraries.oneOf(path, Arbitraries.strings().ofMaxLength(200).map(s -> "/" + s));
        Arbitrary<String> query = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(200),
                Arbitraries.strings().ofMaxLength(80).map(s -> "labelSelector=" + s),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(80).map(s -> "labelSelector=scaledobject.keda.sh%2Fname%3D" + s));
        return anyPath.flatMap(p -> query.injectNull(0.1).map(q -> Tuple.of(p, q)));
    }

    @Property(tries = 3000)
    void fuzzedRequestsNeverFailTheServer(@ForAll("requests") Tuple.Tuple2<String, String> request) {
        ExternalMetricsApi api = new ExternalMetricsApi(store(value("s0-kafka-events", 1000)));
        var response = api.get(request.get1(), request.get2(), NOW);
        assertTrue(response.status() < 500, () -> response.status() + " for " + request);
        assertTrue(response.body().startsWith("{"));
    }
}
