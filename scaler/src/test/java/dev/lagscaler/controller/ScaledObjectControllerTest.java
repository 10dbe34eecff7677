package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.util.PatchUtils;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The operator against the real control plane and the real broker: the seed ScaledObject, unchanged. */
@WithKafka
@WithControlPlane
class ScaledObjectControllerTest {
    private static LagEngine engine;
    private static Operator operator;
    /** HPA writes (POST, PUT, PATCH, DELETE) the operator sent, recorded on its own HTTP client. */
    private static final List<String> HPA_WRITES = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static final io.prometheus.metrics.model.registry.PrometheusRegistry REGISTRY =
            new io.prometheus.metrics.model.registry.PrometheusRegistry();
    private final EmbeddedKafka kafka;
    private final LocalControlPlane plane;
    private final OperatorTestSupport support;

    ScaledObjectControllerTest(EmbeddedKafka kafka, LocalControlPlane plane) {
        this.kafka = kafka;
        this.plane = plane;
        this.support = new OperatorTestSupport(plane);
    }

    @BeforeAll
    static void startOperator(LocalControlPlane plane) throws Exception {
        engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(3)));
        var client = plane.apiClient();
        client.setReadTimeout(0);
        OperatorTestSupport.recordHpaWrites(client, HPA_WRITES);
        operator = new Operator(client, client, engine, OperatorConfig.defaults("test-operator")
                .withFastActivationInterval(Duration.ofMillis(500)), dev.lagscaler.metrics.MetricsSink.NONE,
                new dev.lagscaler.metrics.OperatorMetrics(REGISTRY, false));
        operator.start();
        ChildProcess.await("leadership", Duration.ofSeconds(30), Duration.ofMillis(100), operator::isLeader);
    }

    @AfterAll
    static void stopOperator() {
        operator.close();
        engine.close();
    }

    private String seed(String bootstrap, String topic, String extraSpec, String annotations) {
        return OperatorTestSupport.seed(bootstrap, topic, extraSpec, annotations);
    }

    private void apply(String namespace, String yaml) throws IOException {
        support.apply(namespace, yaml);
    }

    private JsonNode get(String namespace, String kind, String name) throws IOException {
        return support.get(namespace, kind, name);
    }

    private boolean exists(String namespace, String kind, String name) throws IOException {
        return support.exists(namespace, kind, name);
    }

    private int replicas(String namespace) throws IOException {
        return support.replicas(namespace);
    }

    private String condition(String namespace, String type, String field) throws IOException {
        return support.condition(namespace, type, field);
    }

    private String setUp(String namespace, String topic, int replicas) throws Exception {
        support.setUp(namespace, kafka.bootstrapServers(), topic, replicas);
        return namespace;
    }

    @Test
    void seedScaledObjectGoesToZeroAndComesBackOnRecords() throws Exception {
        String ns = setUp("seed", "events", 1);
        apply(ns, seed(kafka.bootstrapServers(), "events", "", ""));

        ChildProcess.await("the HPA keda-hpa-kafka-scaledobject", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> exists(ns, "hpa", "keda-hpa-kafka-scaledobject"));
        JsonNode hpa = get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec");
        assertEquals(1, hpa.path("minReplicas").asInt());
        assertEquals(100, hpa.path("maxReplicas").asInt());
        JsonNode metric = hpa.path("metrics").get(0);
        assertEquals("External", metric.path("type").asText());
        assertEquals("s0-kafka-events", metric.path("external").path("metric").path("name").asText());
        assertEquals("kafka-scaledobject", metric.path("external").path("metric").path("selector").path("matchLabels")
                .path("scaledobject.keda.sh/name").asText());
        assertEquals("AverageValue", metric.path("external").path("target").path("type").asText());
        assertEquals("50", metric.path("external").path("target").path("averageValue").asText());
        assertEquals("consumer-deployment", hpa.path("scaleTargetRef").path("name").asText());

        // Never active and no lag: initialCooldownPeriod (0) has passed, so it goes to zero.
        ChildProcess.await("scale to zero", Duration.ofSeconds(30), Duration.ofMillis(100), () -> replicas(ns) == 0);
        assertEquals("True", condition(ns, "Ready", "status"));
        assertEquals("False", condition(ns, "Active", "status"));
        ChildProcess.await("the status names the wake-up consumer", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> get(ns, "scaledobject", "kafka-scaledobject").path("status").path("activation").asText()
                        .equals("the first record wakes it (wake-up consumer)"));

        long produced = System.nanoTime();
        KafkaTestData.produce(kafka.bootstrapServers(), "events", 0, 1);
        ChildProcess.await("scale from zero", Duration.ofSeconds(30), Duration.ofMillis(20), () -> replicas(ns) >= 1);
        long millis = (System.nanoTime() - produced) / 1_000_000;
        System.out.println("scale-from-zero: " + millis + " ms from produce to spec.replicas >= 1");
        assertEquals(1, replicas(ns));
        ChildProcess.await("Active=True", Duration.ofSeconds(10), Duration.ofMillis(100),
                () -> condition(ns, "Active", "status").equals("True"));
        JsonNode status = get(ns, "scaledobject", "kafka-scaledobject").path("status");
        assertEquals("s0-kafka-events", status.path("externalMetricNames").get(0).asText());
        assertEquals("keda-hpa-kafka-scaledobject", status.path("hpaName").asText());
        assertFalse(status.path("lastActiveTime").asText().isEmpty());
        String events = plane.kubectl("-n", ns, "get", "events", "--field-selector", "involvedObject.name=kafka-scaledobject");
        assertTrue(events.contains("KEDAScaleTargetActivated"), events);
        assertTrue(events.contains("KEDAScaleTargetDeactivated"), events);
    }

    @Test
    void hpaFollowsTheScaledObjectAndGoesWithIt() throws Exception {
        String ns = setUp("lifecycle", "lifecycle-events", 2);
        apply(ns, seed(kafka.bootstrapServers(), "lifecycle-events", "minReplicaCount: 2\nmaxReplicaCount: 5\nadvanced:\n  restoreToOriginalReplicaCount: true", ""));
        ChildProcess.await("HPA max 5", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> exists(ns, "hpa", "keda-hpa-kafka-scaledobject")
                        && get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("maxReplicas").asInt() == 5);
        assertEquals(2, get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("minReplicas").asInt());
        // Later reconciles (woken here by cooldown edits, which change nothing the HPA carries: annotations and labels
        // would, as KEDA copies them onto the HPA) send no HPA write.
        long writes = HPA_WRITES.size();
        long passes = operator.reconcilePasses();
        for (int i = 0; i < 3; i++) {
            plane.kubectl("-n", ns, "patch", "scaledobject", "kafka-scaledobject", "--type=merge",
                    "-p", "{\"spec\":{\"cooldownPeriod\":" + (301 + i) + "}}");
            long seen = passes + i + 1;
            ChildProcess.await("reconcile " + (i + 1), Duration.ofSeconds(30), Duration.ofMillis(50),
                    () -> operator.reconcilePasses() >= seen);
        }
        assertEquals(writes, HPA_WRITES.size(), "an unchanged HPA is not rewritten by later reconciles");

        apply(ns, seed(kafka.bootstrapServers(), "lifecycle-events", "minReplicaCount: 2\nmaxReplicaCount: 7\nadvanced:\n  restoreToOriginalReplicaCount: true", ""));
        ChildProcess.await("HPA max 7", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("maxReplicas").asInt() == 7);

        // An outside edit of the HPA's spec is put back (before, only the hash annotation was compared).
        plane.kubectl("-n", ns, "patch", "hpa", "keda-hpa-kafka-scaledobject", "--type=merge",
                "-p", "{\"spec\":{\"maxReplicas\":99}}");
        ChildProcess.await("the outside edit reverted to max 7", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("maxReplicas").asInt() == 7);

        plane.kubectl("-n", ns, "scale", "deployment", "consumer-deployment", "--replicas=4");
        plane.kubectl("-n", ns, "delete", "scaledobject", "kafka-scaledobject", "--wait=true", "--timeout=60s");
        assertFalse(exists(ns, "hpa", "keda-hpa-kafka-scaledobject"), "the HPA is removed with its ScaledObject");
        assertEquals(2, replicas(ns), "restoreToOriginalReplicaCount put back the count the target had");
    }

    @Test
    void pauseAnnotationsHoldTheCount() throws Exception {
        String ns = setUp("paused", "paused-events", 3);
        KafkaTestData.produce(kafka.bootstrapServers(), "paused-events", 0, 500);
        apply(ns, seed(kafka.bootstrapServers(), "paused-events", "", "\"autoscaling.keda.sh/paused-replicas\": \"5\""));
        ChildProcess.await("paused at 5", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> replicas(ns) == 5 && condition(ns, "Paused", "status").equals("True"));
        assertFalse(exists(ns, "hpa", "keda-hpa-kafka-scaledobject"), "no HPA while paused");

        plane.kubectl("-n", ns, "annotate", "scaledobject", "kafka-scaledobject", "autoscaling.keda.sh/paused-replicas-",
                "autoscaling.keda.sh/paused=true");
        ChildProcess.await("paused without a count", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> condition(ns, "Paused", "reason").equals("ScaledObjectPaused")
                        && condition(ns, "Paused", "message").equals("ScaledObject is paused"));
        plane.kubectl("-n", ns, "scale", "deployment", "consumer-deployment", "--replicas=0");
        // A target scaled by someone else wakes no reconcile (the next poll, up to pollingInterval, notices it):
        // touch the object so the operator sees the target at zero now.
        long passes = operator.reconcilePasses();
        plane.kubectl("-n", ns, "annotate", "--overwrite", "scaledobject", "kafka-scaledobject", "test/touch=at-zero");
        ChildProcess.await("reconciled at zero while paused", Duration.ofSeconds(30), Duration.ofMillis(50),
                () -> operator.reconcilePasses() >= passes + 1);
        // A fresh poll measures the 500 records, then a reconcile decides on it: paused, so it stays at zero.
        engine.pollNow(dev.lagscaler.trigger.KafkaTriggerParser.parse(dev.lagscaler.trigger.TriggerInput.ofMetadata(Map.of(
                "bootstrapServers", kafka.bootstrapServers(), "consumerGroup", "my-group", "topic", "paused-events")))
                .connection());
        long afterPoll = operator.reconcilePasses();
        plane.kubectl("-n", ns, "annotate", "--overwrite", "scaledobject", "kafka-scaledobject", "test/touch=after-poll");
        ChildProcess.await("reconciled after the poll", Duration.ofSeconds(30), Duration.ofMillis(50),
                () -> operator.reconcilePasses() > afterPoll);
        assertEquals(0, replicas(ns), "paused: lag does not activate it");

        plane.kubectl("-n", ns, "annotate", "scaledobject", "kafka-scaledobject", "autoscaling.keda.sh/paused-");
        // The status (Paused=False) is written by the pass after the one that writes the replicas.
        ChildProcess.await("resumed: activated by the backlog, Paused=False", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> replicas(ns) == 1 && exists(ns, "hpa", "keda-hpa-kafka-scaledobject")
                        && "False".equals(condition(ns, "Paused", "status")));
    }

    @Test
    void aTriggerErrorKeepsTheLiveHpaAndTheReplicas() throws Exception {
        String ns = setUp("keep-hpa", "keep-hpa-events", 1);
        KafkaTestData.produce(kafka.bootstrapServers(), "keep-hpa-events", 0, 200);
        String good = seed(kafka.bootstrapServers(), "keep-hpa-events", "minReplicaCount: 1", "");
        apply(ns, good);
        ChildProcess.await("an HPA for the active object", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> exists(ns, "hpa", "keda-hpa-kafka-scaledobject") && condition(ns, "Ready", "status").equals("True"));
        JsonNode before = get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("metadata");
        plane.kubectl("-n", ns, "scale", "deployment", "consumer-deployment", "--replicas=3");

        // A bad edit of one trigger's metadata, and then a partition range that once filled the operator's heap.
        // An unparsable paused-replicas annotation too: a mistake outside the triggers once deleted the HPA.
        for (String bad : new String[] {"lagThreshold: \"ten\"", "lagThreshold: \"50\"\n      partitionLimitation: \"0-2147483647\"",
                "annotations: {\"autoscaling.keda.sh/paused-replicas\": \"three\"}"}) {
            apply(ns, bad.startsWith("annotations") ? good.replace("annotations: {}", bad)
                    : good.replace("lagThreshold: \"50\"", bad));
            String field = bad.contains("partitionLimitation") ? "partitionLimitation"
                    : bad.contains("paused-replicas") ? "paused-replicas" : "lagThreshold";
            ChildProcess.await("Ready=False naming " + field, Duration.ofSeconds(30), Duration.ofMillis(200),
                    () -> condition(ns, "Ready", "status").equals("False") && condition(ns, "Ready", "message").contains(field));
            if (!field.equals("paused-replicas")) {
                assertTrue(condition(ns, "Ready", "message").contains("trigger 0"), condition(ns, "Ready", "message"));
            }
            long passes = operator.reconcilePasses();
            plane.kubectl("-n", ns, "annotate", "--overwrite", "scaledobject", "kafka-scaledobject", "test/touch=" + field);
            ChildProcess.await("another reconcile", Duration.ofSeconds(30), Duration.ofMillis(50),
                    () -> operator.reconcilePasses() > passes);
            JsonNode after = get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("metadata");
            assertEquals(before.path("uid").asText(), after.path("uid").asText(), "the same HPA, not deleted and recreated");
            assertEquals(3, replicas(ns), "an error never lowers the replica count");
            assertTrue(operator.isLeader(), "the operator is still up and leading");
        }
        apply(ns, good);
        ChildProcess.await("Ready again", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> condition(ns, "Ready", "status").equals("True"));
        assertEquals(before.path("uid").asText(), get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("metadata").path("uid").asText());
    }

    @Test
    void invalidScaledObjectsAreRejectedOrNotReady() throws Exception {
        String ns = setUp("invalid", "invalid-events", 1);
        IOException cel = assertThrows(IOException.class, () -> apply(ns, seed(kafka.bootstrapServers(), "invalid-events",
                "minReplicaCount: 5\nmaxReplicaCount: 2", "")));
        assertTrue(cel.getMessage().contains("minReplicaCount must be less than or equal to maxReplicaCount"), cel.getMessage());
        IOException idle = assertThrows(IOException.class, () -> apply(ns, seed(kafka.bootstrapServers(), "invalid-events",
                "minReplicaCount: 1\nidleReplicaCount: 1", "")));
        assertTrue(idle.getMessage().contains("idleReplicaCount must be less than minReplicaCount"), idle.getMessage());
        IOException schema = assertThrows(IOException.class, () -> apply(ns, seed(kafka.bootstrapServers(), "invalid-events",
                "pollingInterval: often", "")));
        assertTrue(schema.getMessage().contains("spec.pollingInterval"), schema.getMessage());
        IOException bounded = assertThrows(IOException.class, () -> apply(ns, seed(kafka.bootstrapServers(), "invalid-events",
                "pollingInterval: 100000", "")));
        assertTrue(bounded.getMessage().contains("spec.pollingInterval"), bounded.getMessage());

        apply(ns, seed(kafka.bootstrapServers(), "invalid-events", "", "").replace("lagThreshold: \"50\"", "lagThreshold: \"0\""));
        ChildProcess.await("Ready=False with the parse error", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> condition(ns, "Ready", "status").equals("False")
                        && condition(ns, "Ready", "message").contains("lagThreshold must be a positive number"));
        assertEquals(1, replicas(ns), "an invalid object never scales");

        apply(ns, seed(kafka.bootstrapServers(), "invalid-events", "", "").replace("type: kafka", "type: rabbitmq"));
        ChildProcess.await("UnsupportedTrigger", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> condition(ns, "Ready", "reason").equals("UnsupportedTrigger"));
    }

    /**
     * The CRD leaves {@code advanced.horizontalPodAutoscalerConfig.behavior} unchecked, so the apiserver is the first
     * to refuse an invalid one (422 on the HPA): the object says so in Ready, and the write is retried on the slow
     * path, not every 200 ms as a lost race would be.
     */
    @Test
    void anHpaTheApiserverRejectsMakesTheObjectNotReady() throws Exception {
        String ns = setUp("rejected-hpa", "rejected-events", 1);
        apply(ns, seed(kafka.bootstrapServers(), "rejected-events", """
                minReplicaCount: 1
                advanced:
                  horizontalPodAutoscalerConfig:
                    behavior:
                      scaleDown:
                        stabilizationWindowSeconds: 7200""", ""));
        ChildProcess.await("Ready=False naming the rejected field", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> condition(ns, "Ready", "status").equals("False")
                        && condition(ns, "Ready", "message").contains("stabilizationWindowSeconds"));
        assertEquals("ScaledObjectCheckFailed", condition(ns, "Ready", "reason"));
        assertTrue(condition(ns, "Ready", "message").startsWith("the apiserver rejected HPA keda-hpa-kafka-scaledobject: "),
                condition(ns, "Ready", "message"));
        // The rejected write is tried again on the slow path (30 s), not on the 200 ms of a lost race.
        long attempts = OperatorTestSupport.writesIn(HPA_WRITES, ns).size();
        long rejectedAt = System.nanoTime();
        ChildProcess.await("the write tried again", Duration.ofSeconds(60), Duration.ofMillis(50),
                () -> OperatorTestSupport.writesIn(HPA_WRITES, ns).size() > attempts);
        long retriedAfterMs = (System.nanoTime() - rejectedAt) / 1_000_000;
        assertTrue(retriedAfterMs >= 5_000, "tried again " + retriedAfterMs + " ms after the rejection");
        assertFalse(exists(ns, "hpa", "keda-hpa-kafka-scaledobject"));
        assertEquals(1, replicas(ns), "the target keeps its replicas");

        apply(ns, seed(kafka.bootstrapServers(), "rejected-events", "minReplicaCount: 1", ""));
        ChildProcess.await("fixed: the HPA and Ready=True", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> exists(ns, "hpa", "keda-hpa-kafka-scaledobject") && condition(ns, "Ready", "status").equals("True"));
    }

    /** The two 422s a JSON patch of ours can get, as the real apiserver sends them. */
    @Test
    void onlyAFailedVersionTestIsAConflict() throws Exception {
        String ns = setUp("conflicts", "conflict-events", 1);
        apply(ns, seed(kafka.bootstrapServers(), "conflict-events", "", ""));
        ChildProcess.await("the object", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> exists(ns, "scaledobject", "kafka-scaledobject"));
        ApiException stale = assertThrows(ApiException.class, () -> jsonPatch(ns,
                "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"1\"},"
                        + "{\"op\":\"add\",\"path\":\"/metadata/finalizers\",\"value\":[]}]"));
        assertEquals(422, stale.getCode());
        assertTrue(ApiErrors.isConflict(stale), stale.getResponseBody());
        ApiException invalid = assertThrows(ApiException.class, () -> jsonPatch(ns,
                "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"a\":\"not a label value\"}}]"));
        assertEquals(422, invalid.getCode());
        assertFalse(ApiErrors.isConflict(invalid), invalid.getResponseBody());
    }

    private void jsonPatch(String namespace, String patch) throws ApiException, IOException {
        var client = plane.apiClient();
        PatchUtils.patch(Object.class, () -> new CustomObjectsApi(client).patchNamespacedCustomObject(KedaKeys.GROUP,
                KedaKeys.VERSION, namespace, KedaKeys.SCALED_OBJECTS, "kafka-scaledobject", new V1Patch(patch)).buildCall(null),
                V1Patch.PATCH_FORMAT_JSON_PATCH, client);
    }

    @Test
    void scalesAStatefulSetWithBootstrapFromEnvAndACpuTrigger() throws Exception {
        String ns = "statefulset";
        plane.kubectl("create", "namespace", ns);
        apply(ns, """
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: consumer-set}
                spec:
                  replicas: 2
                  serviceName: consumer-set
                  selector: {matchLabels: {app: consumer-set}}
                  template:
                    metadata: {labels: {app: consumer-set}}
                    spec:
                      containers:
                      - name: consumer
                        image: consumer:1.0
                        resources: {requests: {cpu: 100m}}
                        env:
                        - {name: KAFKA_BROKERS, value: "%s"}
                """.formatted(kafka.bootstrapServers()));
        KafkaTestData.createTopic(kafka.bootstrapServers(), "set-events", 3);
        KafkaTestData.commit(kafka.bootstrapServers(), "set-group", java.util.Map.of(
                new org.apache.kafka.common.TopicPartition("set-events", 0), 0L,
                new org.apache.kafka.common.TopicPartition("set-events", 1), 0L,
                new org.apache.kafka.common.TopicPartition("set-events", 2), 0L));
        apply(ns, """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: kafka-scaledobject}
                spec:
                  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: consumer-set}
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServersFromEnv: KAFKA_BROKERS, consumerGroup: set-group, topic: set-events, lagThreshold: "50"}
                  - type: cpu
                    metricType: Utilization
                    metadata: {value: "60"}
                """);
        ChildProcess.await("the StatefulSet scaled to zero", Duration.ofSeconds(30), Duration.ofMillis(200), () ->
                get(ns, "statefulset", "consumer-set").path("spec").path("replicas").asInt() == 0);
        JsonNode metrics = get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("metrics");
        assertEquals("s0-kafka-set-events", metrics.get(0).path("external").path("metric").path("name").asText());
        assertEquals("cpu", metrics.get(1).path("resource").path("name").asText());
        assertEquals(60, metrics.get(1).path("resource").path("target").path("averageUtilization").asInt());
        assertEquals("StatefulSet", get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("scaleTargetRef").path("kind").asText());
        assertEquals("apps/v1.StatefulSet", get(ns, "scaledobject", "kafka-scaledobject").path("status").path("scaleTargetKind").asText());
        KafkaTestData.produce(kafka.bootstrapServers(), "set-events", 1, 1);
        ChildProcess.await("the StatefulSet activated", Duration.ofSeconds(30), Duration.ofMillis(100), () ->
                get(ns, "statefulset", "consumer-set").path("spec").path("replicas").asInt() == 1);
        // KEDA's keda_scaler_active for the cpu trigger: active on every check (the HPA reads cpu itself).
        assertEquals(List.of("cpu cpuMemoryScaler 1 1.0", "s0-kafka-set-events kafkaScaler 0 1.0"), kedaActive(ns));
    }

    /** keda_scaler_active of the namespace's ScaledObject: "metric scaler triggerIndex value", sorted. */
    private static List<String> kedaActive(String namespace) {
        List<String> series = new java.util.ArrayList<>();
        for (var snapshot : REGISTRY.scrape()) {
            if (snapshot.getMetadata().getName().equals("keda_scaler_active")) {
                for (var p : snapshot.getDataPoints()) {
                    if (p.getLabels().get("namespace").equals(namespace)) {
                        series.add(p.getLabels().get("metric") + " " + p.getLabels().get("scaler") + " "
                                + p.getLabels().get("triggerIndex") + " "
                                + ((io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot) p).getValue());
                    }
                }
            }
        }
        java.util.Collections.sort(series);
        return series;
    }
}
