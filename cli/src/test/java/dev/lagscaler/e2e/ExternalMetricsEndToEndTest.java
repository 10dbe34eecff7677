package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.tls.Pki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The test the metrics adapter exists for: kube-controller-manager's real HPA controller reads the lag through the
 * real aggregator from our adapter, fed over gRPC by the operator, and scales the Deployment up and down.
 */
@WithKafka
@WithControlPlane
class ExternalMetricsEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void realHpaScalesOnLagServedByTheAdapter(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "e2e";
        String topic = "e2e-events";
        consumerAndTopic(plane, kafka, ns, topic, "e2e-group", 10);

        try (HpaStack stack = HpaStack.start(plane, "e2e", LagEngine.Options.defaults())) {
            scaleThroughTheHpa(kafka, plane, ns, topic);
        }
    }

    private void scaleThroughTheHpa(EmbeddedKafka kafka, LocalControlPlane plane, String ns, String topic) throws Exception {
        apply(plane, ns, fastHpaScaledObject(kafka.bootstrapServers(), "e2e-group", topic));
        for (int p = 0; p < 10; p++) {
            KafkaTestData.produce(kafka.bootstrapServers(), topic, p, 40);
        }
        ChildProcess.await("the HPA raises the Deployment to 8", Duration.ofSeconds(120), Duration.ofMillis(500),
                () -> replicas(plane, ns) == 8);
        String raw = plane.kubectl("get", "--raw", "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns
                + "/s0-kafka-e2e-events?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject");
        JsonNode item = JSON.readTree(raw).path("items").get(0);
        assertEquals("400", item.path("value").asText(), raw);
        assertEquals("s0-kafka-e2e-events", item.path("metricName").asText());

        // A real consumer commits everything: the HPA brings it back down to minReplicas.
        Map<TopicPartition, Long> done = new HashMap<>();
        for (int p = 0; p < 10; p++) {
            done.put(new TopicPartition(topic, p), 40L);
        }
        KafkaTestData.commit(kafka.bootstrapServers(), "e2e-group", done);
        ChildProcess.await("the HPA scales down to 1", Duration.ofSeconds(120), Duration.ofMillis(500),
                () -> replicas(plane, ns) == 1);

        // The partition cap: 10,000 records on 10 partitions ask for 200 replicas; at most 10 come.
        plane.kubectl("-n", ns, "patch", "scaledobject", "kafka-scaledobject", "--type=merge",
                "-p", "{\"spec\":{\"maxReplicaCount\":50}}");
        for (int p = 0; p < 10; p++) {
            KafkaTestData.produce(kafka.bootstrapServers(), topic, p, 1000);
        }
        ChildProcess.await("the HPA stops at the partition count", Duration.ofSeconds(120), Duration.ofMillis(500),
                () -> replicas(plane, ns) == 10);
        // The HPA's next look at 10 replicas: it reads the capped value (500 over 10 pods) and wants no more.
        ChildProcess.await("the HPA holds 10 on the capped value", Duration.ofSeconds(60), Duration.ofMillis(500),
                () -> plane.kubectl("-n", ns, "get", "hpa", "keda-hpa-kafka-scaledobject", "-o",
                        "jsonpath={.status.currentReplicas}/{.status.desiredReplicas}/{.status.currentMetrics[0].external.current.averageValue}")
                        .equals("10/10/50"));
        assertEquals(10, replicas(plane, ns), "no more replicas than partitions without allowIdleConsumers");
        assertTrue(plane.kubectl("get", "--raw", "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns
                + "/s0-kafka-e2e-events?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject").contains("\"500\""));
    }

    static int replicas(LocalControlPlane plane, String ns) throws Exception {
        return Integer.parseInt(plane.kubectl("-n", ns, "get", "deployment", "consumer-deployment",
                "-o", "jsonpath={.spec.replicas}").trim());
    }

    /**
     * A namespace with consumer-deployment at 1 replica, and a topic of {@code partitions} partitions whose
     * {@code group} has committed offset 0 everywhere (nothing produced yet).
     */
    static void consumerAndTopic(LocalControlPlane plane, EmbeddedKafka kafka, String ns, String topic, String group,
                                 int partitions) throws Exception {
        plane.kubectl("create", "namespace", ns);
        plane.kubectl("-n", ns, "create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=1");
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, partitions);
        Map<TopicPartition, Long> start = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            start.put(new TopicPartition(topic, p), 0L);
        }
        KafkaTestData.commit(kafka.bootstrapServers(), group, start);
    }

    /** The adapter's serving certificate: the aggregator checks the name of the Service the APIService names. */
    static Pki.Issued adapterCertificate(Pki.Issued ca) {
        return Pki.server(ca, "lagscaler-metrics", List.of("lagscaler-metrics.lagscaler-metrics.svc", "localhost"),
                List.of("127.0.0.1"));
    }

    /** The test ScaledObject: min 1, max 10, pollingInterval 2 s, an HPA that moves at once in both directions. */
    static String fastHpaScaledObject(String bootstrap, String group, String topic) {
        return scaledObject("""
                pollingInterval: 2
                minReplicaCount: 1
                maxReplicaCount: 10
                """ + FAST_HPA, bootstrap, group, topic, "lagThreshold: \"50\"");
    }

    /** HPA behaviour that moves at once both ways (a spec fragment for {@link #scaledObject}). */
    static final String FAST_HPA = """
            advanced:
              horizontalPodAutoscalerConfig:
                behavior:
                  scaleUp: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 1000, periodSeconds: 1}]}
                  scaleDown: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 100, periodSeconds: 1}]}
            """;

    /**
     * kafka-scaledobject on consumer-deployment: {@code spec} is more of the spec (YAML at the spec's level),
     * {@code metadata} more of the kafka trigger's metadata (entries of a flow map, e.g. {@code lagThreshold: "50"}).
     */
    static String scaledObject(String spec, String bootstrap, String group, String topic, String metadata) {
        return """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: kafka-scaledobject}
                spec:
                  scaleTargetRef: {name: consumer-deployment}
                %s  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "%s", consumerGroup: %s, topic: %s, %s}
                """.formatted(spec.indent(2), bootstrap, group, topic, metadata);
    }

    static void apply(LocalControlPlane plane, String ns, String yaml) throws Exception {
        Path file = Files.createTempFile("e2e-", ".yaml");
        try {
            Files.writeString(file, yaml);
            plane.kubectl("-n", ns, "apply", "-f", file.toString());
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
