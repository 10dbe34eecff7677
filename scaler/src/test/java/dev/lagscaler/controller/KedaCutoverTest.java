package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Switching from KEDA on the real apiserver: KEDA's HPA already there when the operator starts, and the objects in
 * the way of a ScaledObject (another HPA on its target, another ScaledObject, an HPA of its HPA's name).
 */
@WithKafka
@WithControlPlane
class KedaCutoverTest {
    /** Every HPA write the operator sent: "METHOD namespace name". */
    private static final List<String> HPA_WRITES = new CopyOnWriteArrayList<>();
    private static final Map<String, String> KEDA_HPA_UID = new ConcurrentHashMap<>();
    private static final java.util.concurrent.atomic.AtomicBoolean FAIL_SCALE = new java.util.concurrent.atomic.AtomicBoolean();
    private static LagEngine engine;
    private static Operator operator;
    private final EmbeddedKafka kafka;
    private final LocalControlPlane plane;
    private final OperatorTestSupport support;

    KedaCutoverTest(EmbeddedKafka kafka, LocalControlPlane plane) {
        this.kafka = kafka;
        this.plane = plane;
        this.support = new OperatorTestSupport(plane);
    }

    /** What KEDA leaves behind: the ScaledObject (with KEDA's finalizer) and keda-hpa-<name> owned by it. */
    @BeforeAll
    static void kedaWasHereThenTheOperatorStarts(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        OperatorTestSupport support = new OperatorTestSupport(plane);
        support.setUp("cutover", kafka.bootstrapServers(), "cutover-events", 2);
        support.apply("cutover", OperatorTestSupport.seed(kafka.bootstrapServers(), "cutover-events", "minReplicaCount: 1",
                "").replace("metadata:\n  name: kafka-scaledobject\n",
                "metadata:\n  name: kafka-scaledobject\n  finalizers: [finalizer.keda.sh]\n  labels: {team: payments}\n"));
        String uid = support.get("cutover", "scaledobject", "kafka-scaledobject").path("metadata").path("uid").asText();
        support.apply("cutover", """
                apiVersion: autoscaling/v2
                kind: HorizontalPodAutoscaler
                metadata:
                  name: keda-hpa-kafka-scaledobject
                  labels:
                    app.kubernetes.io/managed-by: keda-operator
                    app.kubernetes.io/name: keda-hpa-kafka-scaledobject
                    app.kubernetes.io/part-of: kafka-scaledobject
                    app.kubernetes.io/version: 2.19.0
                    scaledobject.keda.sh/name: kafka-scaledobject
                  ownerReferences:
                  - {apiVersion: keda.sh/v1alpha1, kind: ScaledObject, name: kafka-scaledobject, uid: %s,
                     controller: true, blockOwnerDeletion: true}
                spec:
                  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: consumer-deployment}
                  minReplicas: 1
                  maxReplicas: 100
                  metrics:
                  - type: External
                    external:
                      metric:
                        name: s0-kafka-cutover-events
                        selector: {matchLabels: {scaledobject.keda.sh/name: kafka-scaledobject}}
                      target: {type: AverageValue, averageValue: "50"}
                """.formatted(uid));
        KEDA_HPA_UID.put("cutover", support.get("cutover", "hpa", "keda-hpa-kafka-scaledobject").path("metadata")
                .path("uid").asText());

        engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(3)));
        var client = plane.apiClient();
        client.setReadTimeout(0);
        OperatorTestSupport.recordHpaWrites(client, HPA_WRITES);
        // Scale writes of one namespace fail while FAIL_SCALE holds, in front of the real apiserver.
        client.setHttpClient(client.getHttpClient().newBuilder().addInterceptor(chain -> {
            var request = chain.request();
            if (FAIL_SCALE.get() && request.method().equals("PUT") && request.url().encodedPath().endsWith("/scale")
                    && request.url().encodedPath().contains("/namespaces/scale-fails/")) {
                return dev.lagscaler.testing.ApiStatus.failure(request, 500, "Internal Server Error", "etcd timed out");
            }
            return chain.proceed(request);
        }).build());
        operator = new Operator(client, engine, OperatorConfig.defaults("cutover-operator")
                .withFastActivationInterval(Duration.ofMillis(500)));
        operator.start();
        ChildProcess.await("leadership", Duration.ofSeconds(30), Duration.ofMillis(100), operator::isLeader);
    }

    @AfterAll
    static void stopOperator() {
        operator.close();
        engine.close();
    }

    private List<String> hpaWritesIn(String namespace) {
        return OperatorTestSupport.writesIn(HPA_WRITES, namespace);
    }

    @Test
    void kedasHpaIsAdoptedInOnePass() throws Exception {
        ChildProcess.await("Ready with KEDA's HPA adopted", Duration.ofSeconds(60), Duration.ofMillis(100),
                () -> support.condition("cutover", "Ready", "status").equals("True")
                        && support.get("cutover", "hpa", "keda-hpa-kafka-scaledobject").path("metadata").path("labels")
                        .path("app.kubernetes.io/managed-by").asText().equals("lagscaler"));
        JsonNode hpa = support.get("cutover", "hpa", "keda-hpa-kafka-scaledobject");
        assertEquals(KEDA_HPA_UID.get("cutover"), hpa.path("metadata").path("uid").asText(),
                "the same HPA, updated in place (its stabilization history stays)");
        assertEquals(List.of("PUT cutover keda-hpa-kafka-scaledobject"), hpaWritesIn("cutover"),
                "one write: the update that adopts it; no create, no 409 loop");
        assertEquals("payments", hpa.path("metadata").path("labels").path("team").asText(),
                "the ScaledObject's labels are copied as KEDA copies them");
        assertEquals("kafka-scaledobject", hpa.path("metadata").path("labels").path("scaledobject.keda.sh/name").asText());
    }

    @Test
    void anotherHpaOnTheTargetStopsTheObjectUntilItGoes() throws Exception {
        String ns = "foreign-hpa";
        support.setUp(ns, kafka.bootstrapServers(), "foreign-events", 1);
        plane.kubectl("-n", ns, "autoscale", "deployment", "consumer-deployment", "--max=4", "--cpu=80%");
        support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "foreign-events", "minReplicaCount: 1", ""));
        ChildProcess.await("Ready=False naming the HPA", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.condition(ns, "Ready", "status").equals("False"));
        assertEquals("the workload 'consumer-deployment' of type 'apps/v1.Deployment' is already managed by the hpa"
                + " 'consumer-deployment'", support.condition(ns, "Ready", "message"));
        assertEquals(List.of(), hpaWritesIn(ns), "the object writes no HPA while another scales its target");
        assertFalse(support.exists(ns, "hpa", "keda-hpa-kafka-scaledobject"));

        plane.kubectl("-n", ns, "delete", "hpa", "consumer-deployment");
        ChildProcess.await("its own HPA once the other is gone", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.exists(ns, "hpa", "keda-hpa-kafka-scaledobject")
                        && support.condition(ns, "Ready", "status").equals("True"));
    }

    @Test
    void aSecondScaledObjectOnOneTargetWaitsForTheFirst() throws Exception {
        String ns = "two-objects";
        support.setUp(ns, kafka.bootstrapServers(), "two-events", 1);
        support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "two-events", "minReplicaCount: 1", ""));
        ChildProcess.await("the first Ready", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.condition(ns, "Ready", "status").equals("True"));
        support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "two-events", "minReplicaCount: 1", "")
                .replace("name: kafka-scaledobject", "name: second"));
        ChildProcess.await("the second Ready=False", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.condition(ns, "second", "Ready", "status").equals("False"));
        assertEquals("the workload 'consumer-deployment' of type 'apps/v1.Deployment' is already managed by the"
                + " ScaledObject 'kafka-scaledobject'", support.condition(ns, "second", "Ready", "message"));
        assertFalse(support.exists(ns, "hpa", "keda-hpa-second"), "the second never writes the target's HPA");
        assertEquals("True", support.condition(ns, "Ready", "status"), "the first goes on");

        plane.kubectl("-n", ns, "delete", "scaledobject", "kafka-scaledobject", "--wait=true", "--timeout=60s");
        ChildProcess.await("the second takes over", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.exists(ns, "hpa", "keda-hpa-second")
                        && support.condition(ns, "second", "Ready", "status").equals("True"));
    }

    @Test
    void anHpaIsTakenOverOnlyWhenTransferIsAsked() throws Exception {
        String ns = "transfer";
        support.setUp(ns, kafka.bootstrapServers(), "transfer-events", 1);
        plane.kubectl("-n", ns, "autoscale", "deployment", "consumer-deployment", "--name=my-hpa", "--max=4", "--cpu=80%");
        String userHpa = support.get(ns, "hpa", "my-hpa").path("metadata").path("uid").asText();
        String named = "advanced:\n  horizontalPodAutoscalerConfig:\n    name: my-hpa";
        support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "transfer-events",
                "minReplicaCount: 1\n" + named, ""));
        ChildProcess.await("Ready=False: the name is taken", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.condition(ns, "Ready", "status").equals("False"));
        assertTrue(support.condition(ns, "Ready", "message").startsWith("the HPA 'my-hpa' already exists and is not"
                + " owned by this ScaledObject"), support.condition(ns, "Ready", "message"));
        assertEquals(List.of(), hpaWritesIn(ns));

        plane.kubectl("-n", ns, "annotate", "scaledobject", "kafka-scaledobject",
                "scaledobject.keda.sh/transfer-hpa-ownership=true");
        ChildProcess.await("taken over", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.condition(ns, "Ready", "status").equals("True")
                        && support.get(ns, "hpa", "my-hpa").path("spec").path("metrics").get(0).path("type").asText()
                        .equals("External"));
        JsonNode hpa = support.get(ns, "hpa", "my-hpa");
        assertEquals(userHpa, hpa.path("metadata").path("uid").asText(), "the user's HPA, updated in place");
        String soUid = support.get(ns, "scaledobject", "kafka-scaledobject").path("metadata").path("uid").asText();
        assertEquals(soUid, hpa.path("metadata").path("ownerReferences").get(0).path("uid").asText());
    }

    @Test
    void renamingTheHpaRemovesTheOldOne() throws Exception {
        String ns = "renamed";
        support.setUp(ns, kafka.bootstrapServers(), "renamed-events", 1);
        support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "renamed-events", "minReplicaCount: 1", ""));
        ChildProcess.await("the default-named HPA", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.exists(ns, "hpa", "keda-hpa-kafka-scaledobject"));
        support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "renamed-events",
                "minReplicaCount: 1\nadvanced:\n  horizontalPodAutoscalerConfig:\n    name: renamed-hpa", ""));
        ChildProcess.await("the new HPA, and the old one gone", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.exists(ns, "hpa", "renamed-hpa") && !support.exists(ns, "hpa", "keda-hpa-kafka-scaledobject"));
        assertEquals("True", support.condition(ns, "Ready", "status"));
    }

    @Test
    void pausedScaleInAndOutStopTheHpaToo() throws Exception {
        String ns = "direction-paused";
        support.setUp(ns, kafka.bootstrapServers(), "direction-events", 1);
        support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "direction-events", "minReplicaCount: 1",
                "\"autoscaling.keda.sh/paused-scale-in\": \"1\""));
        ChildProcess.await("scale-down disabled in the HPA", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.exists(ns, "hpa", "keda-hpa-kafka-scaledobject")
                        && support.get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("behavior")
                        .path("scaleDown").path("selectPolicy").asText().equals("Disabled"));
        JsonNode behavior = support.get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("behavior");
        assertFalse(behavior.path("scaleUp").path("selectPolicy").asText().equals("Disabled"), behavior.toString());
        assertEquals("True", support.condition(ns, "Paused", "status"));
        assertEquals("ScaledObject is paused for scale in", support.condition(ns, "Paused", "message"));

        plane.kubectl("-n", ns, "annotate", "--overwrite", "scaledobject", "kafka-scaledobject",
                "autoscaling.keda.sh/paused-scale-in=0", "autoscaling.keda.sh/paused-scale-out=true");
        ChildProcess.await("scale-up disabled, scale-down back", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> {
                    JsonNode b = support.get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("behavior");
                    return b.path("scaleUp").path("selectPolicy").asText().equals("Disabled")
                            && !b.path("scaleDown").path("selectPolicy").asText().equals("Disabled");
                });
        assertEquals("ScaledObject is paused for scale out", support.condition(ns, "Paused", "message"));
    }

    private List<String> eventReasons(String namespace, String object) throws Exception {
        List<String> reasons = new java.util.ArrayList<>();
        for (JsonNode e : new com.fasterxml.jackson.databind.ObjectMapper().readTree(plane.kubectl("-n", namespace, "get",
                "events", "--field-selector", "involvedObject.name=" + object, "-o", "json")).path("items")) {
            reasons.add(e.path("reason").asText());
        }
        return reasons;
    }

    @Test
    void kedasEventsStatusFieldsAndColumns() throws Exception {
        String ns = "keda-events";
        support.setUp(ns, kafka.bootstrapServers(), "keda-events", 1);
        support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "keda-events", "minReplicaCount: 1", "")
                .replace("  - type: kafka\n", "  - type: kafka\n    name: orders\n"));
        ChildProcess.await("Ready", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.condition(ns, "Ready", "status").equals("True"));
        ChildProcess.await("KEDAScalersStarted and ScaledObjectReady", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> eventReasons(ns, "kafka-scaledobject").containsAll(List.of("KEDAScalersStarted", "ScaledObjectReady")));
        JsonNode status = support.get(ns, "scaledobject", "kafka-scaledobject").path("status");
        assertEquals("kafka", status.path("triggersTypes").asText());
        assertEquals("deployments", status.path("scaleTargetGVKR").path("resource").asText());
        assertEquals("apps", status.path("scaleTargetGVKR").path("group").asText());
        String table = plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject");
        assertTrue(table.lines().findFirst().orElse("").contains("TRIGGERS"), table);
        assertTrue(table.lines().findFirst().orElse("").contains("AUTHENTICATIONS"), table);

        // Every failed query is a KEDAScalerFailed Event (the recorder counts repeats on one Event).
        plane.kubectl("-n", ns, "patch", "scaledobject", "kafka-scaledobject", "--type=json", "-p",
                "[{\"op\":\"replace\",\"path\":\"/spec/triggers/0/metadata/bootstrapServers\",\"value\":\"127.0.0.1:1\"}]");
        ChildProcess.await("KEDAScalerFailed", Duration.ofSeconds(60), Duration.ofMillis(200),
                () -> eventReasons(ns, "kafka-scaledobject").contains("KEDAScalerFailed"));

        plane.kubectl("-n", ns, "delete", "scaledobject", "kafka-scaledobject", "--wait=true", "--timeout=60s");
        ChildProcess.await("ScaledObjectDeleted", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> eventReasons(ns, "kafka-scaledobject").contains("ScaledObjectDeleted"));
    }

    @Test
    void triggerNamesMustBeUnique() throws Exception {
        String ns = "trigger-names";
        support.setUp(ns, kafka.bootstrapServers(), "names-events", 1);
        String two = OperatorTestSupport.seed(kafka.bootstrapServers(), "names-events", "minReplicaCount: 1", "");
        String trigger = two.substring(two.indexOf("  - type: kafka"));
        support.apply(ns, two.replace(trigger, (trigger + trigger).replace("  - type: kafka\n", "  - type: kafka\n    name: lag\n")));
        ChildProcess.await("Ready=False", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.condition(ns, "Ready", "status").equals("False"));
        assertEquals("triggerName \"lag\" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique",
                support.condition(ns, "Ready", "message"));
    }

    @Test
    void aContainerNameMakesAContainerResourceMetricTheApiserverTakes() throws Exception {
        String ns = "container-cpu";
        support.setUp(ns, kafka.bootstrapServers(), "container-events", 1);
        support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "container-events", "minReplicaCount: 1", "")
                + "  - type: cpu\n    metricType: Utilization\n    metadata: {value: \"60\", containerName: consumer}\n");
        ChildProcess.await("the HPA with a ContainerResource metric", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> support.exists(ns, "hpa", "keda-hpa-kafka-scaledobject"));
        JsonNode metric = support.get(ns, "hpa", "keda-hpa-kafka-scaledobject").path("spec").path("metrics").get(1);
        assertEquals("ContainerResource", metric.path("type").asText(), metric.toString());
        assertEquals("consumer", metric.path("containerResource").path("container").asText());
        assertEquals("True", support.condition(ns, "Ready", "status"));
    }

    @Test
    void aFailedScaleWriteIsAKedaEventAndIsRetried() throws Exception {
        String ns = "scale-fails";
        FAIL_SCALE.set(true);
        try {
            support.setUp(ns, kafka.bootstrapServers(), "scale-fails-events", 1);
            // Drained and never active, initialCooldownPeriod 0: the operator writes 1 -> 0 at once, and it fails.
            support.apply(ns, OperatorTestSupport.seed(kafka.bootstrapServers(), "scale-fails-events", "", ""));
            ChildProcess.await("KEDAScaleTargetDeactivationFailed", Duration.ofSeconds(30), Duration.ofMillis(200),
                    () -> eventReasons(ns, "kafka-scaledobject").contains("KEDAScaleTargetDeactivationFailed"));
            assertEquals(1, support.replicas(ns), "the write failed: the target keeps its replica");
        } finally {
            FAIL_SCALE.set(false);
        }
        ChildProcess.await("retried with backoff: at zero", Duration.ofSeconds(60), Duration.ofMillis(200),
                () -> support.replicas(ns) == 0);
    }
}
