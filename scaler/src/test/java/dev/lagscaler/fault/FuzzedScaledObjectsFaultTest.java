package dev.lagscaler.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentSpec;
import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault case: seeded random ScaledObjects and edits applied to a live operator. Whatever the apiserver admits, the
 * operator stays up and leading, its heap stays flat, every invalid object reports Ready=False naming the field
 * that is wrong, and a valid object beside them keeps its HPA. {@code -Dlagscaler.fault.objects=1000} for the long
 * variant (CI runs 150).
 */
@Tag("fault")
@WithKafka
@WithControlPlane
class FuzzedScaledObjectsFaultTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NS = "fault-fuzz";
    private static final String TOPIC = "fault-fuzz-events";

    /** One way to break a trigger: the field the Ready message must name, and a bad value for it. */
    private record Mutation(String field, Function<Random, String> value) {
    }

    private static final List<Mutation> MUTATIONS = List.of(
            new Mutation("lagThreshold", r -> List.of("0", "-7", "ten", "1e3").get(r.nextInt(4))),
            new Mutation("activationLagThreshold", r -> List.of("-1", "x", "9999999999999999999999").get(r.nextInt(3))),
            new Mutation("partitionLimitation", r -> List.of("0-2147483647", "9-3", "a-b", "-4", "0-99999,100000-200001")
                    .get(r.nextInt(5))),
            new Mutation("offsetResetPolicy", r -> randomWord(r)),
            new Mutation("allowIdleConsumers", r -> List.of("maybe", "yes", "2").get(r.nextInt(3))),
            new Mutation("sasl", r -> randomWord(r)),
            new Mutation("tls", r -> randomWord(r)),
            new Mutation("version", r -> List.of("x.y", "1..2", "latest").get(r.nextInt(3))));

    @Test
    void randomSpecsAndEditsNeverTakeTheOperatorDown(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        int objects = Integer.getInteger("lagscaler.fault.objects", 150);
        Random random = new Random(20261126L);
        plane.kubectl("create", "namespace", NS);
        KafkaTestData.createTopic(kafka.bootstrapServers(), TOPIC, 2);
        var requests = plane.apiClient();
        AppsV1Api apps = new AppsV1Api(requests);
        CustomObjectsApi custom = new CustomObjectsApi(requests);
        var watches = plane.apiClient();
        watches.setReadTimeout(0);
        Map<String, String> expectedField = new LinkedHashMap<>();
        int rejectedByApiserver = 0;
        int edits = 0;
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(3)));
             Operator operator = new Operator(watches, requests, engine, OperatorConfig.defaults("fault-fuzz")
                     .withNamespace("lagscaler-fault-fuzz"), MetricsSink.NONE)) {
            operator.start();
            ChildProcess.await("leadership", Duration.ofSeconds(30), Duration.ofMillis(100), operator::isLeader);
            // The anchor: a valid, active object whose HPA must survive everything around it.
            deployment(apps, "anchor");
            KafkaTestData.produce(kafka.bootstrapServers(), TOPIC, 0, 50);
            KafkaTestData.commit(kafka.bootstrapServers(), "anchor-group",
                    Map.of(new org.apache.kafka.common.TopicPartition(TOPIC, 0), 0L));
            custom.createNamespacedCustomObject("keda.sh", "v1alpha1", NS, "scaledobjects",
                    body(scaledObject("anchor", kafka.bootstrapServers(), "anchor-group", Map.of()))).execute();
            ChildProcess.await("the anchor's HPA", Duration.ofSeconds(60), Duration.ofMillis(200),
                    () -> !plane.kubectl("-n", NS, "get", "hpa", "keda-hpa-anchor", "--ignore-not-found", "-o", "name").isBlank());
            String anchorHpa = plane.kubectl("-n", NS, "get", "hpa", "keda-hpa-anchor", "-o", "jsonpath={.metadata.uid}");
            long heapBefore = usedHeapAfterGc();

            for (int i = 0; i < objects; i++) {
                String name = "fuzz-" + i;
                deployment(apps, name);
                Map<String, String> extra = new HashMap<>();
                String field = null;
                if (random.nextInt(4) > 0) {
                    Mutation m = MUTATIONS.get(random.nextInt(MUTATIONS.size()));
                    extra.put(m.field(), m.value().apply(random));
                    if (m.field().equals("sasl") || m.field().equals("allowIdleConsumers")) {
                        // parsed after the fields before it: keep the rest valid so this one is the error
                        extra.putIfAbsent("tls", "disable");
                    }
                    field = m.field();
                } else if (random.nextBoolean()) {
                    extra.put("lagThreshold", Integer.toString(1 + random.nextInt(1000)));
                }
                ObjectNode so = scaledObject(name, kafka.bootstrapServers(), "g-" + random.nextInt(10), extra);
                if (random.nextInt(10) == 0) {
                    ((ObjectNode) so.path("spec")).put("pollingInterval", random.nextBoolean() ? 0 : 100_000);
                    field = null; // the schema refuses it
                }
                try {
                    custom.createNamespacedCustomObject("keda.sh", "v1alpha1", NS, "scaledobjects", body(so)).execute();
                    if (field != null) {
                        expectedField.put(name, field);
                    } else {
                        expectedField.put(name, "");
                    }
                } catch (ApiException e) {
                    assertTrue(e.getCode() == 422 || e.getCode() == 400, "a 4xx for bad input, got " + e.getCode());
                    rejectedByApiserver++;
                }
                if (i % 10 == 9) {
                    // An edit: an earlier object flips between broken and fixed.
                    String earlier = "fuzz-" + random.nextInt(i);
                    if (expectedField.containsKey(earlier)) {
                        Mutation m = MUTATIONS.get(random.nextInt(MUTATIONS.size()));
                        JsonNode current = JSON.valueToTree(custom.getNamespacedCustomObject("keda.sh", "v1alpha1", NS,
                                "scaledobjects", earlier).execute());
                        ObjectNode edited = scaledObject(earlier, kafka.bootstrapServers(), "g-edit",
                                Map.of(m.field(), m.value().apply(random)));
                        ((ObjectNode) edited.path("metadata")).put("resourceVersion",
                                current.path("metadata").path("resourceVersion").asText());
                        custom.replaceNamespacedCustomObject("keda.sh", "v1alpha1", NS, "scaledobjects", earlier, body(edited))
                                .execute();
                        expectedField.put(earlier, m.field());
                        edits++;
                    }
                }
            }

            ChildProcess.await("every admitted object reports Ready naming its broken field", Duration.ofSeconds(120),
                    Duration.ofSeconds(1), () -> mismatches(plane, expectedField).isEmpty());
            assertTrue(operator.isLeader(), "the operator is up and leading");
            assertEquals(anchorHpa, plane.kubectl("-n", NS, "get", "hpa", "keda-hpa-anchor", "-o", "jsonpath={.metadata.uid}"),
                    "the valid object beside them kept its HPA");
            long heapGrowth = usedHeapAfterGc() - heapBefore;
            assertTrue(heapGrowth < 64L * 1024 * 1024, "heap grew by " + heapGrowth / 1024 + " KiB");
            long invalid = expectedField.values().stream().filter(f -> !f.isEmpty()).count();
            FaultFigures.record("fuzzed-scaledobjects", Map.of("objects", objects, "edits", edits,
                    "rejected_by_apiserver", rejectedByApiserver, "admitted_invalid_ready_false_naming_field", invalid,
                    "admitted_valid", expectedField.size() - invalid, "heap_growth_kib", heapGrowth / 1024,
                    "operator_leading_after", true, "anchor_hpa_kept", true));
        } finally {
            plane.kubectl("delete", "namespace", NS, "--wait=false");
        }
    }

    /** The objects whose Ready condition does not yet say what it should (empty field: a valid object, not False). */
    private static List<String> mismatches(LocalControlPlane plane, Map<String, String> expectedField) throws Exception {
        JsonNode items = JSON.readTree(plane.kubectl("-n", NS, "get", "scaledobjects", "-o", "json")).path("items");
        Map<String, JsonNode> ready = new HashMap<>();
        for (JsonNode so : items) {
            for (JsonNode c : so.path("status").path("conditions")) {
                if (c.path("type").asText().equals("Ready")) {
                    ready.put(so.path("metadata").path("name").asText(), c);
                }
            }
        }
        List<String> wrong = new ArrayList<>();
        expectedField.forEach((name, field) -> {
            JsonNode c = ready.get(name);
            if (c == null) {
                wrong.add(name + ": no Ready condition");
            } else if (!field.isEmpty() && !(c.path("status").asText().equals("False")
                    && c.path("message").asText().contains(field))) {
                wrong.add(name + ": expected Ready=False naming " + field + ", got " + c);
            } else if (field.isEmpty() && c.path("reason").asText().equals("ScaledObjectCheckFailed")) {
                wrong.add(name + ": a valid object reported invalid: " + c);
            }
        });
        if (!wrong.isEmpty()) {
            System.out.println("[fault] waiting on " + wrong.size() + ": " + String.join("; ", wrong));
        }
        return wrong;
    }

    private static ObjectNode scaledObject(String name, String bootstrap, String group, Map<String, String> extra) {
        ObjectNode so = JSON.createObjectNode().put("apiVersion", "keda.sh/v1alpha1").put("kind", "ScaledObject");
        so.putObject("metadata").put("name", name).put("namespace", NS);
        ObjectNode spec = so.putObject("spec");
        spec.putObject("scaleTargetRef").put("name", "consumer-" + name);
        spec.put("pollingInterval", 5);
        ObjectNode metadata = spec.putArray("triggers").addObject().put("type", "kafka").putObject("metadata");
        metadata.put("bootstrapServers", bootstrap).put("consumerGroup", group).put("topic", TOPIC)
                .put("scaleToZeroOnInvalidOffset", "true");
        extra.forEach(metadata::put);
        return so;
    }

    /** client-java serializes with Gson: hand it plain maps, not Jackson nodes. */
    private static Object body(ObjectNode node) {
        return JSON.convertValue(node, Map.class);
    }

    private static void deployment(AppsV1Api apps, String name) throws ApiException {
        Map<String, String> labels = Map.of("app", "consumer-" + name);
        apps.createNamespacedDeployment(NS, new V1Deployment().metadata(new V1ObjectMeta().name("consumer-" + name))
                .spec(new V1DeploymentSpec().replicas(0).selector(new V1LabelSelector().matchLabels(labels))
                        .template(new V1PodTemplateSpec().metadata(new V1ObjectMeta().labels(labels))
                                .spec(new V1PodSpec().containers(List.of(new V1Container().name("c").image("consumer:1.0")))))))
                .execute();
    }

    private static String randomWord(Random r) {
        StringBuilder b = new StringBuilder();
        int n = 1 + r.nextInt(12);
        for (int i = 0; i < n; i++) {
            b.append((char) ('a' + r.nextInt(26)));
        }
        return b.toString();
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
