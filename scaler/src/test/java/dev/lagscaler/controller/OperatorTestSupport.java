package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/** kubectl-level helpers shared by the operator tests: apply YAML, read objects, set up a drained topic. */
final class OperatorTestSupport {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final LocalControlPlane plane;

    OperatorTestSupport(LocalControlPlane plane) {
        this.plane = plane;
    }

    void apply(String namespace, String yaml) throws IOException {
        Path file = Files.createTempFile("manifest-", ".yaml");
        try {
            Files.writeString(file, yaml);
            plane.kubectl("-n", namespace, "apply", "-f", file.toString());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    JsonNode get(String namespace, String kind, String name) throws IOException {
        return JSON.readTree(plane.kubectl("-n", namespace, "get", kind, name, "-o", "json"));
    }

    boolean exists(String namespace, String kind, String name) throws IOException {
        return !plane.kubectl("-n", namespace, "get", kind, name, "--ignore-not-found", "-o", "name").isBlank();
    }

    int replicas(String namespace) throws IOException {
        return get(namespace, "deployment", "consumer-deployment").path("spec").path("replicas").asInt();
    }

    String condition(String namespace, String type, String field) throws IOException {
        return condition(namespace, "kafka-scaledobject", type, field);
    }

    String condition(String namespace, String scaledObject, String type, String field) throws IOException {
        for (JsonNode c : get(namespace, "scaledobject", scaledObject).path("status").path("conditions")) {
            if (c.path("type").asText().equals(type)) {
                return c.path(field).asText();
            }
        }
        return "";
    }

    /** A namespace with the consumer Deployment, and a 3-partition topic whose group my-group consumed everything. */
    void setUp(String namespace, String bootstrap, String topic, int replicas) throws Exception {
        plane.kubectl("create", "namespace", namespace);
        plane.kubectl("-n", namespace, "create", "deployment", "consumer-deployment", "--image=consumer:1.0",
                "--replicas=" + replicas);
        KafkaTestData.createTopic(bootstrap, topic, 3);
        Map<TopicPartition, Long> committed = new HashMap<>();
        for (int p = 0; p < 3; p++) {
            committed.put(new TopicPartition(topic, p), 0L);
        }
        KafkaTestData.commit(bootstrap, "my-group", committed);
    }

    /**
     * Has {@code client} record every HPA write it sends (POST, PUT, PATCH, DELETE) into {@code writes}, as
     * "METHOD namespace name" (name empty for a create).
     */
    static void recordHpaWrites(io.kubernetes.client.openapi.ApiClient client, java.util.List<String> writes) {
        client.setHttpClient(client.getHttpClient().newBuilder().addInterceptor(chain -> {
            java.util.List<String> path = chain.request().url().pathSegments();
            int kind = path.indexOf("horizontalpodautoscalers");
            if (!chain.request().method().equals("GET") && kind >= 0) {
                int at = path.indexOf("namespaces");
                writes.add(chain.request().method() + " " + (at >= 0 ? path.get(at + 1) : "") + " "
                        + (kind + 1 < path.size() ? path.get(kind + 1) : ""));
            }
            return chain.proceed(chain.request());
        }).build());
    }

    /** The writes of {@link #recordHpaWrites} in one namespace. */
    static java.util.List<String> writesIn(java.util.List<String> writes, String namespace) {
        return writes.stream().filter(w -> w.split(" ", -1)[1].equals(namespace)).toList();
    }

    /** The seed ScaledObject of the issue, with the test broker's address and topic. */
    static String seed(String bootstrap, String topic, String extraSpec, String annotations) {
        return """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata:
                  name: kafka-scaledobject
                  annotations: {%s}
                spec:
                  scaleTargetRef:
                    name: consumer-deployment
                %s
                  triggers:
                  - type: kafka
                    metadata:
                      bootstrapServers: %s
                      consumerGroup: my-group
                      topic: %s
                      lagThreshold: "50"
                """.formatted(annotations, extraSpec.indent(2).stripTrailing(), bootstrap, topic);
    }
}
